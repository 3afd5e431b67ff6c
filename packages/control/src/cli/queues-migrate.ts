import { type BrokerConfig, DmrError, type Env, EnvReader, readBrokerConfig } from '@dmr/shared';
import {
  agentIdsFromBroker,
  agentIdsFromRegistry,
  type BrokerPair,
  connectBroker,
  formatProgress,
  formatSummary,
  formatSurvey,
  type MigrationReport,
  type QueuePair,
  type QueueSurvey,
  queuePair,
  runMigration,
} from '../migrate/index.js';
import type { CliContext, CliIo } from './output.js';
import { CONNECTION_FLAGS, type MigrateFlags } from './queues-flags.js';

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

/** Runs `dmrctl queues migrate` with parsed flags (loaded on demand by the command tree). */
export async function runMigrateCommand(io: CliIo, context: CliContext, flags: MigrateFlags & Record<string, unknown>): Promise<void> {
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
}
