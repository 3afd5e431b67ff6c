import { type BackoffSettings, backoffDelayMs, DmrError, type Logger, MESSAGES_EXCHANGE } from '@dmr/shared';
import type { Channel, Options } from 'amqplib';
import { assertAgentQueues } from './topology.js';

/** Opens a fresh channel (its 'error' events already handled). */
export type OpenChannel = () => Promise<Channel>;

/** Declares one agent's queues on `channel`; throws what amqplib throws. */
export type AssertAgent = (channel: Channel, agentId: string) => Promise<void>;

/** A counter or gauge as the preparer uses it (prom-client's satisfy these). */
export interface PreparerMetrics {
  readonly unpreparedAgents: { set(value: number): void };
  readonly prepareFailures: { inc(labels: { code: string }): void };
}

/** Ports of {@link AgentQueuePreparer}. */
export interface PreparerDeps {
  /** A channel on the live connection (throws when RabbitMQ is not connected). */
  readonly openChannel: OpenChannel;
  readonly isConnected: () => boolean;
  readonly backoff: BackoffSettings;
  readonly metrics: PreparerMetrics;
  readonly log: Logger;
  /** Default {@link assertAgentQueues}. */
  readonly assertAgent?: AssertAgent;
}

interface Failure {
  readonly error: DmrError;
  readonly attempt: number;
  readonly dueAt: number;
}

/** How many agent ids the readiness detail names before it says "+N more". */
const READINESS_NAMES = 10;

/**
 * Declares every agent's queues, one agent at a time, so that one queue RabbitMQ refuses (an existing
 * `dmr.agent.<id>` with other arguments: PRECONDITION_FAILED closes the channel) costs only that agent. A refused
 * agent is logged with its code, counted, named in readiness, retried with capped backoff, and messages to it are
 * refused with DMR_ROUTE_QUEUE_UNAVAILABLE (see {@link guardRecipientQueues}) instead of vanishing.
 */
export class AgentQueuePreparer {
  readonly #failures = new Map<string, Failure>();
  readonly #assert: AssertAgent;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #isStopped = false;

  constructor(private readonly deps: PreparerDeps) {
    this.#assert = deps.assertAgent ?? assertAgentQueues;
  }

  /**
   * Declares the queues of `agentIds` on channels from `open` (used by the broker's connect set-up, before the
   * connection counts as usable). Per-agent refusals are recorded, never thrown; a connection-level failure throws.
   */
  async prepareAll(agentIds: readonly string[], open: OpenChannel): Promise<void> {
    const failures = await assertEach(agentIds, open, this.#assert);
    this.#record(agentIds, failures);
  }

  /**
   * Declares the queues of newly registered agents on the live connection. Never throws. While RabbitMQ is not
   * connected the agents are marked unprepared, so the next connect's set-up or the retry timer declares them.
   */
  prepare(agentIds: readonly string[]): Promise<void> {
    if (agentIds.length === 0) return Promise.resolve();
    return this.#serialised(async () => {
      if (!this.deps.isConnected()) {
        const down = new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', 'RabbitMQ is not connected');
        this.#record(agentIds, new Map(agentIds.map((id) => [id, down])));
        return;
      }
      await this.#prepareLive(agentIds);
    });
  }

  /** Drops agents that left the registry. */
  forget(agentIds: readonly string[]): void {
    for (const id of agentIds) this.#failures.delete(id);
    this.#afterChange();
  }

  /** Why a message to `agentId` must be refused now, or undefined when its queues were declared. */
  refusal(agentId: string): DmrError | undefined {
    const failure = this.#failures.get(agentId);
    if (!failure) return undefined;
    return new DmrError('DMR_ROUTE_QUEUE_UNAVAILABLE', `queues of ${agentId} are not declared: ${failure.error.message}`);
  }

  /** Agents whose queues are not declared. */
  unpreparedAgentIds(): string[] {
    return [...this.#failures.keys()];
  }

  /** The readiness detail: `ok`, or `unprepared: <ids>` (the first few, then `+N more`). */
  describe(): string {
    const ids = this.unpreparedAgentIds();
    if (ids.length === 0) return 'ok';
    const more = ids.length > READINESS_NAMES ? ` +${ids.length - READINESS_NAMES} more` : '';
    return `unprepared: ${ids.slice(0, READINESS_NAMES).join(', ')}${more}`;
  }

  /** Stops retrying and waits for a running attempt. Idempotent. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    clearTimeout(this.#timer);
    await this.#chain;
  }

  async #prepareLive(agentIds: readonly string[]): Promise<void> {
    try {
      this.#record(agentIds, await assertEach(agentIds, this.deps.openChannel, this.#assert));
    } catch (error) {
      // the connection went away mid-way: the next connect's set-up declares every agent again
      this.deps.log.warn({ err: error, agents: agentIds.length }, 'declaring agent queues interrupted; retried');
      const down = new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', 'RabbitMQ connection lost while declaring queues', { cause: error });
      this.#record(agentIds, new Map(agentIds.map((id) => [id, down])));
    }
  }

  #record(agentIds: readonly string[], failures: ReadonlyMap<string, DmrError>): void {
    const now = Date.now();
    for (const id of agentIds) {
      const error = failures.get(id);
      const previous = this.#failures.get(id);
      if (!error) {
        if (previous) this.deps.log.info({ agentId: id, attempts: previous.attempt + 1 }, 'agent queues declared after earlier failures');
        this.#failures.delete(id);
        continue;
      }
      const attempt = previous ? previous.attempt + 1 : 0;
      this.#failures.set(id, { error, attempt, dueAt: now + backoffDelayMs(attempt, this.deps.backoff) });
      // broker loss is already reported by the connection; only refusals of the queue itself are this agent's problem
      if (error.code !== 'DMR_ROUTE_BROKER_UNAVAILABLE') {
        this.deps.metrics.prepareFailures.inc({ code: error.code });
        this.deps.log.error(
          { agentId: id, code: error.code, reason: error.message, attempt },
          'cannot declare agent queues; messages to this agent are refused until it succeeds',
        );
      }
    }
    this.#afterChange();
  }

  #postpone(agentIds: readonly string[]): void {
    const dueAt = Date.now() + this.deps.backoff.maxDelayMs;
    for (const id of agentIds) {
      const failure = this.#failures.get(id);
      if (failure) this.#failures.set(id, { ...failure, dueAt });
    }
    this.#schedule();
  }

  #afterChange(): void {
    this.deps.metrics.unpreparedAgents.set(this.#failures.size);
    this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#isStopped || this.#failures.size === 0) return;
    const next = Math.min(...[...this.#failures.values()].map((failure) => failure.dueAt));
    this.#timer = setTimeout(() => void this.#retryDue(), Math.max(0, next - Date.now()));
    this.#timer.unref();
  }

  #retryDue(): Promise<void> {
    return this.#serialised(async () => {
      if (this.#isStopped) return;
      const now = Date.now();
      const due = [...this.#failures].filter(([, failure]) => failure.dueAt <= now).map(([id]) => id);
      if (due.length === 0) return this.#schedule();
      // not connected: the connect set-up declares everyone; look again later without counting an attempt
      if (!this.deps.isConnected()) return this.#postpone(due);
      await this.#prepareLive(due);
    });
  }

  #serialised(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step, step);
    this.#chain = run.catch((error: unknown) => this.deps.log.error({ err: error }, 'agent queue preparation failed'));
    return this.#chain;
  }
}

/**
 * Declares each agent's queues on channels from `open`, continuing on a fresh channel after RabbitMQ refuses one
 * (a channel exception closes the channel). Returns the refusals by agent id as DMR_ROUTE_QUEUE_UNAVAILABLE.
 * Errors that are not channel exceptions (connection lost) are thrown.
 */
export async function assertEach(agentIds: readonly string[], open: OpenChannel, assert: AssertAgent): Promise<Map<string, DmrError>> {
  const failures = new Map<string, DmrError>();
  let channel: Channel | undefined;
  try {
    for (const id of agentIds) {
      channel ??= await open();
      try {
        await assert(channel, id);
      } catch (error) {
        if (!isChannelException(error)) throw error;
        failures.set(id, new DmrError('DMR_ROUTE_QUEUE_UNAVAILABLE', describeAmqpError(error), { cause: error }));
        const dead = channel;
        channel = undefined;
        await dead.close().catch(() => undefined);
      }
    }
  } finally {
    await channel?.close().catch(() => undefined);
  }
  return failures;
}

/** A soft error RabbitMQ answered with channel.close (AMQP reply codes 403-406: access, not found, locked, precondition). */
function isChannelException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 400 && code < 500;
}

function describeAmqpError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // amqplib's text: 'Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - ..."'
  const quoted = /with message "([^"]+)"/.exec(message);
  return (quoted?.[1] ?? message).slice(0, 300);
}

/** A publisher as the router sees it. */
export interface Publisher {
  publish(exchange: string, routingKey: string, content: Buffer, options?: Options.Publish): Promise<void>;
}

/**
 * Wraps `publisher` so that a message for an agent whose queues are not declared is refused at once with
 * DMR_ROUTE_QUEUE_UNAVAILABLE (transient: the sender retries) instead of being returned unroutable or landing
 * in a queue DMR did not set up.
 */
export function guardRecipientQueues(publisher: Publisher, preparer: Pick<AgentQueuePreparer, 'refusal'>): Publisher {
  return {
    publish: (exchange, routingKey, content, options) => {
      const refusal = exchange === MESSAGES_EXCHANGE ? preparer.refusal(routingKey) : undefined;
      return refusal ? Promise.reject(refusal) : publisher.publish(exchange, routingKey, content, options);
    },
  };
}
