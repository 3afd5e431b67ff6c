import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { type BrokerConfig, DmrError, type Env, EnvReader, isAgentId, readBrokerConfig } from '@dmr/shared';
import {
  agentIdsFromBroker,
  agentIdsFromRegistry,
  type BrokerPair,
  connectBroker,
  DEFAULT_SOURCE_DLQ_TEMPLATE,
  DEFAULT_SOURCE_QUEUE_TEMPLATE,
  formatProgress,
  formatSummary,
  formatSurvey,
  type MigrationReport,
  type QueuePair,
  type QueueSurvey,
  queuePair,
  runMigration,
  templateProblem,
} from '../migrate/index.js';
import { parseList } from './options.js';
import type { CliContext, CliIo } from './output.js';

/** Command-line flags that stand in for the server's RABBITMQ_* variables (a flag wins over the variable). */
const CONNECTION_FLAGS = [
  ['--rabbitmq-host <hosts>', 'RABBITMQ_DEFAULT_HOST'],
  ['--rabbitmq-port <port>', 'RABBITMQ_DEFAULT_PORT'],
  ['--vhost <vhost>', 'RABBITMQ_DEFAULT_VHOST'],
  ['--user <user>', 'RABBITMQ_DEFAULT_USER'],
  ['--management-uri <urls>', 'RABBITMQ_DEFAULT_MANAGEMENT_UI_URI'],
  ['--auth-mechanism <mechanism>', 'RABBITMQ_AUTH_MECHANISM'],
  ['--tls-ca-file <file>', 'RABBITMQ_TLS_CA_FILE'],
  ['--tls-cert-file <file>', 'RABBITMQ_TLS_CERT_FILE'],
  ['--tls-key-file <file>', 'RABBITMQ_TLS_KEY_FILE'],
] as const;

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

interface MigrateFlags {
  readonly agentIds?: string[];
  readonly registryUrl?: string;
  readonly registryCaFile?: string;
  readonly discover?: true;
  readonly sourceQueue: string;
  readonly sourceDlq: string;
  readonly dryRun?: true;
  readonly force?: true;
  readonly window: number;
  readonly idleMs: number;
  readonly progressMs: number;
  readonly json?: true;
  readonly sourceVhost?: string;
}

/** The broker settings: the server's variables, each overridden by its flag. Throws DMR_CONFIG_INVALID naming the variable. */
function brokerConfigOf(flags: Record<string, unknown>, env: Env, needsManagement: boolean): BrokerConfig {
  const overrides: Record<string, string> = {};
  for (const [flag, variable] of CONNECTION_FLAGS) {
    const key = flag
      .replace(/^--/, '')
      .replace(/ .*$/, '')
      .replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
    if (typeof flags[key] === 'string') overrides[variable] = flags[key];
  }
  const read = new EnvReader({ ...env, ...overrides });
  const config = readBrokerConfig(read, { needsManagement });
  read.finish();
  return config;
}

async function agentIdsOf(flags: MigrateFlags, config: BrokerConfig): Promise<string[]> {
  const sources = [flags.agentIds, flags.registryUrl, flags.discover].filter((source) => source !== undefined);
  if (sources.length !== 1)
    throw new DmrError('DMR_CONFIG_INVALID', 'name the agents with exactly one of --agent-ids, --registry-url or --discover');
  if (flags.agentIds) return [...new Set(flags.agentIds)];
  if (flags.registryUrl) return agentIdsFromRegistry(flags.registryUrl, flags.registryCaFile);
  const sourceConfig = { ...config, vhost: flags.sourceVhost ?? config.vhost };
  return agentIdsFromBroker(sourceConfig, { queue: flags.sourceQueue, deadLetters: flags.sourceDlq });
}

/** Prints a line per queue when it starts and then at most every `intervalMs`. */
function progressPrinter(io: CliIo, intervalMs: number) {
  const started = new Map<string, { at: number; printedAt: number }>();
  return (survey: QueueSurvey, counts: Parameters<typeof formatProgress>[1]): void => {
    const now = performance.now();
    let state = started.get(survey.source);
    if (!state) {
      state = { at: now, printedAt: now };
      started.set(survey.source, state);
      io.err(`moving ${survey.source} → ${survey.destination} (${survey.messages} waiting)\n`);
    }
    if (now - state.printedAt < intervalMs) return;
    state.printedAt = now;
    io.err(formatProgress(survey, counts, now - state.at));
  };
}

function printReport(io: CliIo, report: MigrationReport, isJson: boolean): void {
  if (isJson) io.out(`${JSON.stringify(report, null, 2)}\n`);
  else io.out(report.isDryRun ? formatSurvey(report.surveys) : formatSummary(report));
}

async function migrate(
  io: CliIo,
  brokers: BrokerPair,
  pairs: QueuePair[],
  flags: MigrateFlags,
  config: BrokerConfig,
  context: CliContext,
): Promise<void> {
  const report = await runMigration(brokers, pairs, {
    isDryRun: flags.dryRun === true,
    isForced: flags.force === true,
    windowSize: flags.window,
    idleMs: flags.idleMs,
    confirmTimeoutMs: config.confirmTimeoutMs,
    signal: context.signal,
    onProgress: progressPrinter(io, flags.progressMs),
  });
  printReport(io, report, flags.json === true);
  const failed = report.results.find((result) => result.error);
  if (failed?.error) throw new DmrError(failed.error.code, `${failed.source}: ${failed.error.message}`);
  if (report.isAborted)
    throw new DmrError('DMR_LIFECYCLE_SHUTTING_DOWN', 'interrupted: what was not moved is still in the source; run again');
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
    const flags = rawFlags as MigrateFlags & Record<string, unknown>;
    const config = brokerConfigOf(flags, context.env, flags.discover === true);
    const agentIds = await agentIdsOf(flags, config);
    const pairs = agentIds.map((id) => queuePair(id, { queue: flags.sourceQueue, deadLetters: flags.sourceDlq }));
    const destination = await connectBroker(config);
    destination.on('error', () => undefined);
    try {
      const isOtherVhost = flags.sourceVhost !== undefined && flags.sourceVhost !== config.vhost;
      const source = isOtherVhost ? await connectBroker({ ...config, vhost: flags.sourceVhost ?? config.vhost }) : destination;
      source.on('error', () => undefined);
      try {
        await migrate(io, { source, destination }, pairs, flags, config, context);
      } finally {
        if (source !== destination) await source.close().catch(() => undefined);
      }
    } finally {
      await destination.close().catch(() => undefined);
    }
  });
}

/** `dmrctl queues …`: move seed-003 queues into DMR's. */
export function queuesCommand(io: CliIo, context: CliContext): Command {
  return new Command('queues').description('RabbitMQ queues: migration from seed 003').addCommand(migrateCommand(io, context));
}
