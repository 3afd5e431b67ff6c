// `dmrctl agents …`: the agent registry through dmr-control's admin API. The tree only declares; each action loads
// agents-actions.ts (the client, TLS) when it runs.
import { Command, Option, type OptionValues } from '@commander-js/extra-typings';
import { collect, parseAgentId, parseLabel, parseWhole, withApiOptions } from './api-options.js';
import type { CliContext, CliIo } from './output.js';

const actions = () => import('./agents-actions.js');

function idCommand(name: string, description: string) {
  return withApiOptions(new Command(name).description(description).argument('<id>', 'agent id', parseAgentId));
}

function revisionOption() {
  return new Option('--revision <n>', 'the revision you read (ETag): refuse if the agent changed since (default: read it now)').argParser(
    parseWhole(1),
  );
}

function withFieldOptions<Args extends unknown[], Opts extends OptionValues>(command: Command<Args, Opts>) {
  return command
    .option('--name <name>', 'display name')
    .option('--institution <name>', 'institution that runs the agent')
    .option('--contact <text>', 'who to call about it')
    .option('--capability <token>', 'a capability, e.g. jwe:RSA-OAEP-256 (repeatable; update: replaces the list)', collect)
    .option('--certificate-file <file>', 'PEM public key or certificate (agents usually enroll with a token instead)');
}

function createCommand(io: CliIo, context: CliContext) {
  const command = withFieldOptions(
    withApiOptions(new Command('create').description('register an agent (then: "dmrctl agents token <id>" to enroll it)')),
  )
    .option('--id <id>', 'agent id (default: the API makes a UUID)', parseAgentId)
    .option('--label <key=value>', 'a label (repeatable)', parseLabel)
    .option('--group <name>', 'a group (repeatable)', collect)
    .option('--disabled', 'create it disabled');
  return command.action(async (flags) => (await actions()).createAgent(io, context, flags));
}

function updateCommand(io: CliIo, context: CliContext) {
  const command = withFieldOptions(idCommand('update', "change an agent's fields: reads it with its ETag, then PATCH with If-Match"))
    .option('--set-label <key=value>', 'add or change a label (repeatable)', parseLabel)
    .option('--unset-label <key>', 'remove a label (repeatable)', collect)
    .option('--add-group <name>', 'add a group (repeatable)', collect)
    .option('--remove-group <name>', 'remove a group (repeatable)', collect)
    .addOption(revisionOption());
  return command.action(async (id, flags) => (await actions()).updateAgent(io, context, id, flags));
}

function switchCommand(io: CliIo, context: CliContext, enabled: boolean) {
  const description = enabled
    ? 'enable an agent: it may connect again'
    : 'disable an agent: servers cut its connection and refuse messages to it';
  return idCommand(enabled ? 'enable' : 'disable', description)
    .addOption(revisionOption())
    .action(async (id, flags) => (await actions()).setAgentEnabled(io, context, id, enabled, flags));
}

/** `dmrctl agents list|get|create|update|disable|enable|delete|token`. */
export function agentsCommand(io: CliIo, context: CliContext): Command {
  const list = withApiOptions(new Command('list').description('list agents (all pages; the filters are applied by dmr-control)'))
    .addOption(new Option('--enabled', 'only enabled agents').conflicts('disabled'))
    .option('--disabled', 'only disabled agents')
    .option('--group <name>', 'only agents in this group')
    .option('--label <key=value>', 'only agents with this label')
    .option('--name-prefix <text>', 'only agents whose name starts so')
    .addOption(new Option('--enrolled', 'only agents with a key or certificate').conflicts('notEnrolled'))
    .option('--not-enrolled', 'only agents without one')
    .action(async (flags) => (await actions()).listAgents(io, context, flags));
  const get = idCommand('get', 'show one agent').action(async (id, flags) => (await actions()).getAgent(io, context, id, flags));
  const remove = idCommand('delete', 'delete an agent (with If-Match: refused if it changed since it was read)')
    .addOption(revisionOption())
    .action(async (id, flags) => (await actions()).deleteAgent(io, context, id, flags));
  const token = idCommand('token', 'make a one-time enrollment token for the agent: a secret, printed once').action(async (id, flags) =>
    (await actions()).makeToken(io, context, id, flags),
  );
  return new Command('agents')
    .description('the agent registry (admin API: operator or admin certificate)')
    .addCommand(list)
    .addCommand(get)
    .addCommand(createCommand(io, context))
    .addCommand(updateCommand(io, context))
    .addCommand(switchCommand(io, context, false))
    .addCommand(switchCommand(io, context, true))
    .addCommand(remove)
    .addCommand(token);
}
