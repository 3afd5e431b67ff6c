import { setTimeout as sleep } from 'node:timers/promises';
import {
  agentQueueName,
  backoffDelayMs,
  codeLabel,
  DEAD_LETTER_EXCHANGE,
  fixedShapeLogger,
  type Logger,
  REASON_CODE_HEADER,
  REASON_HEADER,
  toDmrError,
  type WireMessageBody,
} from '@dmr/shared';
import type { Channel, ConsumeMessage } from 'amqplib';
import { AckBatcher, type BrokerConnection } from '../amqp/index.js';
import type { ServerMetrics } from '../obs/index.js';
import { type OutboundDelivery, withDeadline } from './delivery-deadline.js';
import { type DeliveryDecision, decideDelivery, parseDeliveryAck } from './delivery-decision.js';

/** Sends one message to the connected agent; resolves with whatever the agent acked (untrusted), rejects on ack timeout or disconnect. */
export type EmitDelivery = (message: OutboundDelivery) => Promise<unknown>;

/** Settings of a delivery loop. */
export interface DeliverySettings {
  readonly prefetch: number;
  readonly deliveryLimit: number;
  /** Pause before a failed delivery is tried again, ms; doubles (with jitter) per attempt up to `redeliveryDelayMaxMs`. */
  readonly redeliveryDelayMs: number;
  readonly redeliveryDelayMaxMs: number;
  /** Message TTL, ms: a delivery the agent has not answered by then is dead-lettered (0 = never). */
  readonly messageTtlMs: number;
  /**
   * Set when the agent enforces delivery deadlines itself (it announced `delivery-deadline`, issue 15, finding 17):
   * each delivery then carries its remaining TTL, and an unanswered one is dead-lettered only this long (ms) after
   * the TTL, by when a post the agent started before its deadline has ended (`DMR_DELIVERY_ACK_TIMEOUT_MS`).
   * Unset (seed 003 agents): dead-lettered at the TTL.
   */
  readonly deadlineGraceMs?: number;
}

/** Dependencies of a delivery loop. */
export interface DeliveryDeps {
  readonly broker: Pick<BrokerConnection, 'openChannel' | 'publish'>;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
}

/**
 * Consumes one agent's queue while that agent is connected to this instance and acks RabbitMQ only
 * after the agent acked. Each consumer owns its channel; a delivery is always settled on the channel it came from.
 *
 * A transient failure is retried IN PLACE: the delivery stays unacknowledged and is emitted again after a
 * growing pause, until the delivery limit dead-letters it. It is never nacked back to the queue, because a
 * quorum queue puts a requeued message behind every later one (measured on RabbitMQ 3.10): that would break
 * per-chat order and make a retried message wait for the whole backlog, and an immediate requeue would burn
 * the delivery limit within seconds of an endpoint outage. When the session or channel ends meanwhile, the
 * channel's close gives every unacknowledged message back to the head of the queue, in delivery order.
 */
export class AgentDelivery {
  #channel: Channel | undefined;
  #acks: AckBatcher | undefined;
  // aborted when the channel this delivery loop consumes on is stopped or replaced: ends pending retry pauses. Made
  // by the channel's first delivery: abort() allocates a DOMException with a stack, which a session without
  // deliveries (most of a reconnect storm) need not pay for on every start and stop
  #abort: AbortController | undefined;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  // Bumped by every start() and by stop(). A start() that finds it changed after one of its awaits was superseded
  // and closes the channel it opened itself: nobody else knows that channel, and with single active consumer an
  // orphan would own the agent's queue until the AMQP connection dies (issue 15, finding 3).
  #generation = 0;
  #isStopped = false;
  readonly #starting = new Set<Promise<void>>();
  // channels that closed (their connection died, or RabbitMQ closed them): nothing held on them can be settled any more
  readonly #closed = new WeakSet<Channel>();

  /** `onLost`: RabbitMQ cancelled the consumer or closed its channel with an error; the session must end (finding 10). */
  constructor(
    private readonly agentId: string,
    private readonly emit: EmitDelivery,
    private readonly deps: DeliveryDeps,
    private readonly settings: DeliverySettings,
    private readonly onLost: (reason: string) => void = () => undefined,
  ) {}

  /**
   * Starts consuming (again, after a broker reconnect: the old channel died with the connection). A channel still
   * open from an earlier start is closed first. Does nothing after {@link AgentDelivery.stop}, which is final.
   * Resolves true when this start is consuming, false when a later start() or stop() superseded it or the consumer
   * was lost meanwhile; rejects when the channel or consumer could not be set up.
   */
  async start(): Promise<boolean> {
    if (this.#isStopped) return false;
    const generation = ++this.#generation;
    const previous = this.#detach();
    const opening = this.#open(generation, previous?.channel);
    this.#starting.add(opening);
    try {
      await opening;
    } finally {
      this.#starting.delete(opening);
    }
    return generation === this.#generation && this.#channel !== undefined;
  }

  async #open(generation: number, previous: Channel | undefined): Promise<void> {
    if (previous) await closeQuietly(previous);
    if (generation !== this.#generation) return;
    let channel: Channel;
    try {
      channel = await this.deps.broker.openChannel();
    } catch (error) {
      if (generation !== this.#generation) return;
      throw error;
    }
    try {
      if (generation !== this.#generation) throw SUPERSEDED;
      channel.on('error', (error: Error) => this.#lose(channel, `RabbitMQ closed the consumer channel: ${error.message}`));
      channel.once('close', () => this.#closed.add(channel));
      await channel.prefetch(this.settings.prefetch);
      if (generation !== this.#generation) throw SUPERSEDED;
      const acks = new AckBatcher(channel);
      // installed before consuming, so the first deliveries already find their channel current; from here on
      // whoever supersedes this start detaches and closes the channel
      this.#channel = channel;
      this.#acks = acks;
      await channel.consume(agentQueueName(this.agentId), (message) => this.#onMessage(channel, acks, message));
    } catch (error) {
      if (this.#channel === channel) this.#detach();
      await closeQuietly(channel);
      if (generation !== this.#generation) return;
      throw error;
    }
  }

  /** Takes the current channel out of service (pending retry pauses end); the caller closes it. */
  #detach(): { channel: Channel; acks: AckBatcher | undefined } | undefined {
    const channel = this.#channel;
    const acks = this.#acks;
    this.#channel = undefined;
    this.#acks = undefined;
    this.#abort?.abort();
    this.#abort = undefined;
    return channel ? { channel, acks } : undefined;
  }

  /**
   * Stops for good: cancels a start in progress (it closes its own channel; this waits for it), stops emitting new
   * deliveries, waits up to `drainMs` for in-flight ones, then closes the channel, which gives every unacknowledged
   * message back to the head of the queue in delivery order. No `basic.cancel` first: a cancel returns the
   * deliveries still in transit to the channel on their own, and they then overtake the rest (measured on
   * RabbitMQ 3.10), which would reorder a chat across a reconnect.
   */
  async stop(drainMs: number): Promise<void> {
    this.#isStopped = true;
    this.#generation++;
    const current = this.#detach();
    await Promise.allSettled([...this.#starting]);
    if (!current) return;
    try {
      await this.#waitIdle(drainMs);
      current.acks?.flush();
    } catch (error) {
      this.deps.log.debug({ err: error }, 'flushing acks of the delivery channel');
    }
    await closeQuietly(current.channel);
  }

  /** The consumer on `channel` is gone on RabbitMQ's side; only the current channel's loss ends the session. */
  #lose(channel: Channel, reason: string): void {
    if (channel !== this.#channel) return;
    this.deps.log.warn({ agentId: this.agentId, reason }, 'consumer lost; ending the session so the agent reconnects');
    this.#detach();
    // after a cancel the channel is still open and would keep its unacknowledged deliveries: closing it returns them
    void closeQuietly(channel);
    this.onLost(reason);
  }

  #onMessage(channel: Channel, acks: AckBatcher, message: ConsumeMessage | null): void {
    if (message === null) {
      this.#lose(channel, 'RabbitMQ cancelled the consumer (queue deleted?)');
      return;
    }
    acks.track(message);
    // stopping: left unacknowledged, so the channel's close returns it in order with the rest
    if (channel !== this.#channel) return;
    this.#inFlight++;
    this.#abort ??= new AbortController();
    void this.#deliver(channel, acks, message, this.#abort.signal)
      .catch((error: unknown) => {
        // left unacknowledged: the channel's close returns it to the queue; never an unhandled rejection (issue 15)
        this.deps.log.error({ err: toDmrError(error), agentId: this.agentId }, 'delivery failed unexpectedly');
      })
      .finally(() => {
        this.#inFlight--;
        if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      });
  }

  async #deliver(channel: Channel, acks: AckBatcher, delivery: ConsumeMessage, signal: AbortSignal): Promise<void> {
    const startedAt = performance.now();
    const deliveryCount = Number(delivery.properties.headers?.['x-delivery-count'] ?? 0);
    const wire = parseWire(delivery.content);
    if (!wire) {
      const invalid = {
        action: 'dead-letter',
        code: 'DMR_DELIVERY_INVALID_MESSAGE',
        reason: 'queued body is not a valid wire message',
      } as const;
      this.#logOutcome(delivery, wire, invalid, await this.#settle(channel, acks, delivery, invalid, signal), deliveryCount, startedAt);
      return;
    }
    // failed attempts of this holding only: x-delivery-count counts returns by restarts, which are no attempts (finding 11)
    let attempt = 0;
    const publishedAt = publishTimeMs(delivery) ?? Date.now();
    for (;;) {
      const reply = await this.emit(this.#outbound(wire, publishedAt)).then(parseDeliveryAck, () => ({ timeout: true as const }));
      const age = { ageMs: Date.now() - publishedAt, ttlMs: this.settings.messageTtlMs, graceMs: this.settings.deadlineGraceMs ?? 0 };
      const decision = decideDelivery(reply, attempt, this.settings.deliveryLimit, age);
      if (decision.action !== 'retry') {
        this.#logOutcome(delivery, wire, decision, await this.#settle(channel, acks, delivery, decision, signal), attempt, startedAt);
        return;
      }
      this.#logOutcome(delivery, wire, decision, 'retrying', attempt, startedAt);
      // the session or channel ended: the channel's close gave the message back to the head of the queue
      if (!(await this.#pauseBeforeRetry(channel, attempt, signal))) return;
      if (decision.isAttempt) attempt++;
    }
  }

  /** The delivery as emitted: with its remaining TTL when the agent enforces deadlines. */
  #outbound(wire: WireMessageBody, publishedAt: number): OutboundDelivery {
    const { messageTtlMs, deadlineGraceMs } = this.settings;
    const isEnforced = deadlineGraceMs !== undefined && messageTtlMs > 0;
    return withDeadline(wire, isEnforced ? messageTtlMs - (Date.now() - publishedAt) : undefined);
  }

  /** Waits the redelivery pause for `attempt`; false when this channel was stopped or replaced meanwhile. */
  async #pauseBeforeRetry(channel: Channel, attempt: number, signal: AbortSignal): Promise<boolean> {
    const delayMs = backoffDelayMs(attempt, {
      initialDelayMs: this.settings.redeliveryDelayMs,
      maxDelayMs: this.settings.redeliveryDelayMaxMs,
    });
    await sleep(delayMs, undefined, { signal }).catch(() => undefined);
    return !signal.aborted && this.#channel === channel && !this.#closed.has(channel);
  }

  /**
   * Acks, or dead-letters and then acks. A failed dead-letter publish (DLQ gone, refused, broker trouble) is retried
   * IN PLACE after the redelivery pause, like a failed delivery: a nack with requeue would return the message at
   * once, in a tight loop that spends RABBITMQ_RETURN_LIMIT within a second and then leaves the message to RabbitMQ's
   * own dead-lettering, without DMR's reason (issue 21). Ends when the channel is stopped or replaced: its close
   * gives the message back to the head of the queue.
   */
  async #settle(
    channel: Channel,
    acks: AckBatcher,
    delivery: ConsumeMessage,
    decision: Exclude<DeliveryDecision, { action: 'retry' }>,
    signal: AbortSignal,
  ): Promise<string> {
    if (decision.action === 'ack') {
      acks.ack(delivery);
      return 'delivered';
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.broker.publish(DEAD_LETTER_EXCHANGE, this.agentId, delivery.content, {
          messageId: delivery.properties.messageId,
          type: delivery.properties.type,
          contentType: 'application/json',
          headers: { ...delivery.properties.headers, [REASON_CODE_HEADER]: decision.code, [REASON_HEADER]: decision.reason.slice(0, 1024) },
        });
        acks.ack(delivery);
        return 'dead-lettered';
      } catch (error) {
        this.deps.log.warn({ err: toDmrError(error), agentId: this.agentId }, 'could not dead-letter delivery; trying again in place');
        if (!(await this.#pauseBeforeRetry(channel, attempt, signal))) {
          // stopped or replaced: whoever did closes the channel, which returns the message to the head of the queue
          // (no nack: a requeued message goes behind every later one)
          return 'requeued';
        }
      }
    }
  }

  #logOutcome(
    delivery: ConsumeMessage,
    wire: WireMessageBody | undefined,
    decision: DeliveryDecision,
    result: string,
    deliveryCount: number,
    startedAt: number,
  ): void {
    const durationMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
    const code = decision.action === 'ack' ? undefined : decision.code;
    const reason = decision.action === 'ack' ? undefined : decision.reason;
    // the code may be an agent's errors[].type: only catalog codes become label values (issue 15)
    this.deps.metrics.messagesTotal.inc({ stage: 'delivery', result, code: code === undefined ? 'none' : codeLabel(code) });
    const fields = {
      msgId: wire?.id ?? delivery.properties.messageId,
      senderId: wire?.senderId,
      recipientId: this.agentId,
      type: wire?.type,
      stage: 'delivery',
      result,
      code,
      reason,
      deliveryCount,
      durationMs,
    };
    const log = fixedShapeLogger(this.deps.log);
    if (result === 'delivered') log.info(fields, 'message outcome');
    else log.warn(fields, 'message outcome');
  }

  #waitIdle(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Thrown inside start() when a later start() or stop() superseded it; never escapes. */
const SUPERSEDED = new Error('superseded by a later start() or stop()');

/** Closes a channel that may already be closed (its connection died, or RabbitMQ closed it). */
async function closeQuietly(channel: Channel): Promise<void> {
  try {
    await channel.close();
  } catch {
    // already closed: its unacknowledged deliveries went back to the queue then
  }
}

const WIRE_FIELDS = ['id', 'timestamp', 'senderId', 'recipientId', 'type', 'payload'] as const;

/** When the server published the message (AMQP `timestamp`, seconds), in ms; undefined when it was not set. */
function publishTimeMs(delivery: ConsumeMessage): number | undefined {
  const seconds: unknown = delivery.properties.timestamp;
  return typeof seconds === 'number' && seconds > 0 ? seconds * 1000 : undefined;
}

/**
 * Parses a queued body. Only the shape is checked here: a DMR server validated the message in full before
 * publishing it, and the recipient agent validates it in full again, so re-running the schema (with its JWE
 * pattern over the whole payload) on every delivery would only repeat work. Garbage is still dead-lettered.
 */
function parseWire(content: Buffer): WireMessageBody | undefined {
  try {
    const value: unknown = JSON.parse(content.toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const record = value as Record<string, unknown>;
    return WIRE_FIELDS.every((field) => typeof record[field] === 'string' && record[field] !== '') ? (value as WireMessageBody) : undefined;
  } catch {
    return undefined;
  }
}
