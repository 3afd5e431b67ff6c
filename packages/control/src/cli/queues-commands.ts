import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { isAgentId } from '@dmr/shared/base';
import { DEFAULT_SOURCE_DLQ_TEMPLATE, DEFAULT_SOURCE_QUEUE_TEMPLATE, templateProblem } from '../migrate/source-names.js';
import { parseList } from './options.js';
import type { CliContext, CliIo } from './output.js';
import { CONNECTION_FLAGS, type MigrateFlags } from './queues-flags.js';

function parseWhole(min: number) {
  return (value: string): number => {
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
    return parsed;
  };
}

function parseTemplate(value: string): string {
  const problem = templateProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

function parseAgentIds(value: string, previous: string[] = []): string[] {
  const ids = parseList(value, previous);
  const bad = ids.filter((id) => !isAgentId(id));
  if (bad.length > 0) throw new InvalidArgumentError(`not an agent id: ${bad.slice(0, 5).join(', ')}`);
  return ids;
}

function migrateCommand(io: CliIo, context: CliContext) {
  const command = new Command('migrate')
    .description(
      "move the messages waiting in seed-003 queues (<id>) and their DLQs into DMR's (dmr.agent.<id>, .dlq): each publish confirmed before the source is acked",
    )
    .option('--agent-ids <ids>', 'agents to move, comma-separated (repeatable)', parseAgentIds)
    .option('--registry-url <url>', 'or: every agent of a CentOps registry document (file:// or https://)')
    .option('--registry-ca-file <file>', "CA that signs the https registry (default: Node's roots)")
    .option('--discover', 'or: every agent whose seed-003 queue exists in the vhost (management API)')
    .option('--source-queue <template>', "name of seed 003's queue, {id} = agent id", parseTemplate, DEFAULT_SOURCE_QUEUE_TEMPLATE)
    .option('--source-dlq <template>', "name of seed 003's dead-letter queue", parseTemplate, DEFAULT_SOURCE_DLQ_TEMPLATE)
    .option('--source-vhost <vhost>', "vhost of the seed-003 queues when DMR runs in another vhost of the same broker (default: DMR's)")
    .option('--dry-run', 'count what waits and check the sources; move nothing, declare nothing')
    .option('--force', 'move even from queues that have consumers (not exclusive): only when no seed-003 server consumes them')
    .option('--window <n>', 'messages in flight (published, not yet confirmed and acked)', parseWhole(1), 1000)
    .option('--idle-ms <ms>', 'quiet time, with nothing in flight, before the source depth is checked for the end', parseWhole(10), 200)
    .option('--progress-ms <ms>', 'progress line interval per queue (stderr)', parseWhole(100), 2000)
    .option('--json', 'print the report as JSON');
  for (const [flag, variable] of CONNECTION_FLAGS) command.addOption(new Option(flag, `overrides ${variable}`));
  return command.action(async (rawFlags) => {
    // the broker client, the registry reader and the rest of @dmr/shared load only when a migration runs
    const { runMigrateCommand } = await import('./queues-migrate.js');
    await runMigrateCommand(io, context, rawFlags as MigrateFlags & Record<string, unknown>);
  });
}

/** `dmrctl queues …`: move seed-003 queues into DMR's. */
export function queuesCommand(io: CliIo, context: CliContext): Command {
  return new Command('queues').description('RabbitMQ queues: migration from seed 003').addCommand(migrateCommand(io, context));
}
