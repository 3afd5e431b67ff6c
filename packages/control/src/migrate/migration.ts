import { agentTopology, BASE_TOPOLOGY, DmrError, type DmrErrorCode, declareTopology, toDmrError } from '@dmr/shared';
import type { ChannelModel } from 'amqplib';
import { type BrokerPair, type MoveCounts, QueueMover, translate } from './queue-mover.js';
import { convertDeadLetter, convertQueued } from './seed003-format.js';
import type { QueuePair } from './source-names.js';

/** What one source queue holds before the move (passive declare: nothing is created). */
export interface QueueSurvey {
  readonly agentId: string;
  readonly kind: 'queue' | 'dead-letters';
  readonly source: string;
  readonly destination: string;
  readonly exists: boolean;
  /** Ready messages (unacked ones held by a consumer are not counted by RabbitMQ). */
  readonly messages: number;
  readonly consumers: number;
}

/** The outcome of one source queue's move. */
export interface QueueResult extends QueueSurvey {
  readonly counts: MoveCounts;
  readonly durationMs: number;
  /** Ready messages in the source after the move (0 when it drained; more when producers kept publishing or it failed). */
  readonly leftInSource: number | undefined;
  readonly error?: { readonly code: DmrErrorCode; readonly message: string };
}

/** How a run is done. */
export interface MigrationOptions {
  readonly isDryRun: boolean;
  /** Move even from a queue that has consumers (and without an exclusive consumer). */
  readonly isForced: boolean;
  readonly windowSize: number;
  readonly idleMs: number;
  readonly confirmTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Running counts of the queue being moved (for progress output). */
  readonly onProgress?: ((survey: QueueSurvey, counts: Readonly<MoveCounts>) => void) | undefined;
}

/** What a run found and did. */
export interface MigrationReport {
  readonly surveys: readonly QueueSurvey[];
  readonly results: readonly QueueResult[];
  readonly isDryRun: boolean;
  readonly isAborted: boolean;
}

/** Surveys both source queues of every pair. A missing queue is reported as such, never created. */
export async function surveyPairs(model: ChannelModel, pairs: readonly QueuePair[]): Promise<QueueSurvey[]> {
  const surveys: QueueSurvey[] = [];
  for (const pair of pairs) {
    const queue = await inspectQueue(model, pair.source);
    surveys.push({ agentId: pair.agentId, kind: 'queue', source: pair.source, destination: pair.inbox, ...queue });
    const deadLetters = await inspectQueue(model, pair.sourceDeadLetters);
    surveys.push({
      agentId: pair.agentId,
      kind: 'dead-letters',
      source: pair.sourceDeadLetters,
      destination: pair.deadLetters,
      ...deadLetters,
    });
  }
  return surveys;
}

/** Passive declare on a channel of its own: RabbitMQ closes the channel when the queue does not exist. */
async function inspectQueue(model: ChannelModel, name: string): Promise<{ exists: boolean; messages: number; consumers: number }> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    const { messageCount, consumerCount } = await channel.checkQueue(name);
    return { exists: true, messages: messageCount, consumers: consumerCount };
  } catch (error) {
    if ((error as { code?: unknown }).code === 404) return { exists: false, messages: 0, consumers: 0 };
    throw translate(error, name);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Moves every pair's seed-003 queue and DLQ into DMR's, one queue at a time. Refuses (DMR_MIGRATE_SOURCE_IN_USE,
 * nothing moved) while any source has a consumer, unless forced. Declares DMR's topology as dmr-server does first.
 * Stops at the first failed queue: its result carries the error, and what was not acked stays in the source.
 */
export async function runMigration(brokers: BrokerPair, pairs: readonly QueuePair[], options: MigrationOptions): Promise<MigrationReport> {
  const surveys = await surveyPairs(brokers.source, pairs);
  if (options.isDryRun) return { surveys, results: [], isDryRun: true, isAborted: false };
  const inUse = surveys.filter((survey) => survey.exists && survey.consumers > 0);
  if (inUse.length > 0 && !options.isForced) {
    const names = inUse.map((survey) => `${survey.source} (${survey.consumers} consumer(s))`).join(', ');
    throw new DmrError('DMR_MIGRATE_SOURCE_IN_USE', `seed-003 queues still consumed: ${names}; stop their servers first, or pass --force`);
  }
  const present = surveys.filter((survey) => survey.exists);
  await declareDestinations(brokers.destination, [...new Set(present.map((survey) => survey.agentId))]);
  const results: QueueResult[] = [];
  for (const survey of present) {
    if (options.signal?.aborted) break;
    const result = await moveOne(brokers, survey, options);
    results.push(result);
    if (result.error) break;
  }
  return { surveys, results, isDryRun: false, isAborted: options.signal?.aborted === true };
}

/** DMR's exchanges and each agent's queues, declared exactly as dmr-server declares them (shared topology). */
async function declareDestinations(model: ChannelModel, agentIds: readonly string[]): Promise<void> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  let current = 'the base topology';
  try {
    await declareTopology(channel, BASE_TOPOLOGY);
    for (const agentId of agentIds) {
      current = `the queues of agent ${agentId}`;
      await declareTopology(channel, agentTopology(agentId));
    }
  } catch (error) {
    throw new DmrError('DMR_ROUTE_QUEUE_UNAVAILABLE', `RabbitMQ refused to declare ${current}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await channel.close().catch(() => undefined);
  }
}

async function moveOne(brokers: BrokerPair, survey: QueueSurvey, options: MigrationOptions): Promise<QueueResult> {
  const startedAt = performance.now();
  const mover = new QueueMover(brokers, {
    windowSize: options.windowSize,
    isExclusive: !options.isForced,
    idleMs: options.idleMs,
    confirmTimeoutMs: options.confirmTimeoutMs,
    signal: options.signal,
    onProgress: (counts) => options.onProgress?.(survey, counts),
  });
  const convert = survey.kind === 'queue' ? convertQueued : convertDeadLetter;
  let error: DmrError | undefined;
  try {
    await mover.move(survey.source, survey.agentId, (message) => convert(message, survey.agentId, survey.source));
  } catch (failure) {
    error = toDmrError(failure);
  }
  const durationMs = performance.now() - startedAt;
  const after = await inspectQueue(brokers.source, survey.source).catch(() => undefined);
  return {
    ...survey,
    counts: { ...mover.counts },
    durationMs,
    leftInSource: after?.messages,
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
  };
}
