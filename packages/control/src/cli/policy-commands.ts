// `dmrctl policy test|diff`: evaluate dmr-policy/v1 documents offline against a registry file (docs/policy.md
// "Lifecycle"). Declarations only; the actions (and @dmr/shared/policy) load when one runs.
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS } from './api-options.js';
import type { CliIo } from './output.js';

const actions = () => import('./policy-actions.js');

/** Parses `--at`: an ISO 8601 time with a zone (`2026-12-07T09:00:00Z`, `…+02:00`); returns unix ms. */
export function parseInstant(value: string): number {
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const unixMs = Date.parse(value);
  if (!hasZone || !/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(unixMs)) {
    throw new InvalidArgumentError('expected an ISO 8601 time with a zone, e.g. 2026-12-07T09:00:00Z');
  }
  return unixMs;
}

/** `dmrctl policy test|diff`. */
export function policyCommand(io: CliIo): Command {
  const output = () => new Option('--output <format>', 'table (for people) or json (for scripts)').choices(OUTPUT_FORMATS).default('table');
  const test = new Command('test')
    .description(
      'decide one message offline and explain it: the deciding rule, and why each earlier rule did not match (exit 0 for allow and deny alike)',
    )
    .requiredOption('--policy <file>', 'dmr-policy/v1 document: .json is read as JSON, anything else as YAML')
    .requiredOption('--registry <file>', 'CentOps configuration JSON ({response:[{id, institution?, groups?}, …]})')
    .requiredOption('--from <agent>', 'sender agent id')
    .requiredOption('--to <agent>', 'recipient agent id')
    .option('--type <type>', 'message type', 'ChatMessage')
    .option('--at <time>', 'when the message is routed, ISO 8601 with a zone (default: now)', parseInstant)
    .addOption(output())
    .action(async (flags) => (await actions()).testPolicy(io, flags));
  const diff = new Command('diff')
    .description('list the sender→recipient pairs of the registry that gain or lose access going from one policy to another')
    .requiredOption('--old <file>', 'the policy in force (dmr-policy/v1); "none" for no policy (everything allowed)')
    .requiredOption('--new <file>', 'the policy to compare (dmr-policy/v1)')
    .requiredOption('--registry <file>', 'CentOps configuration JSON; at most 2000 agents')
    .option('--type <type>', 'only this message type (default: every type a rule names, and * for any other)')
    .option('--at <time>', 'only this time, ISO 8601 with a zone (default: every slice of the week the windows cut)', parseInstant)
    .addOption(output())
    .action(async (flags) => (await actions()).diffPolicyFiles(io, flags));
  return new Command('policy')
    .description('evaluate policy documents offline (docs/policy.md): test one message, diff two versions')
    .addCommand(test)
    .addCommand(diff);
}
