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
import { type DeliveryDecision, decideDelivery, parseDeliveryAck } from './delivery-decision.js';

/** Sends one message to the connected agent; resolves with whatever the agent acked (untrusted), rejects on ack timeout or disconnect. */
export type EmitDelivery = (message: WireMessageBody) => Promise<unknown>;

/** Settings of a delivery loop. */
export interface DeliverySettings {
  readonly prefetch: number;
  readonly deliveryLimit: number;
  /** Pause before a failed delivery is tried again, ms; doubles (with jitter) per attempt up to `redeliveryDelayMaxMs`. */
  readonly redeliveryDelayMs: number;
  readonly redeliveryDelayMaxMs: number;
  /** Message TTL, ms: a delivery the agent has not answered by then is dead-lettered (0 = never). */
  readonly messageTtlMs: number;
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
  // aborted when the channel this delivery loop consumes on is stopped or replaced: ends pending retry pauses
  #abort = new AbortController();
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(
    private readonly agentId: string,
    private readonly emit: EmitDelivery,
    private readonly deps: DeliveryDeps,
    private readonly settings: DeliverySettings,
  ) {}

  /** Starts consuming (again, after a broker reconnect: the old channel died with the connection). */
  async start(): Promise<void> {
    this.#channel = undefined;
    this.#abort.abort();
    this.#abort = new AbortController();
    const channel = await this.deps.broker.openChannel();
    await channel.prefetch(this.settings.prefetch);
    const acks = new AckBatcher(channel);
    this.#channel = channel;
    this.#acks = acks;
    await channel.consume(agentQueueName(this.agentId), (message) => this.#onMessage(channel, acks, message));
  }

  /**
   * Stops emitting new deliveries, waits up to `drainMs` for in-flight ones, then closes the channel, which gives
   * every unacknowledged message back to the head of the queue in delivery order. No `basic.cancel` first: a
   * cancel returns the deliveries still in transit to the channel on their own, and they then overtake the rest
   * (measured on RabbitMQ 3.10), which would reorder a chat across a reconnect.
   */
  async stop(drainMs: number): Promise<void> {
    const channel = this.#channel;
    const acks = this.#acks;
    this.#channel = undefined;
    this.#acks = undefined;
    this.#abort.abort();
    if (!channel) return;
    try {
      await this.#waitIdle(drainMs);
      acks?.flush();
      await channel.close();
    } catch (error) {
      this.deps.log.debug({ err: error }, 'closing delivery channel');
    }
  }

  #onMessage(channel: Channel, acks: AckBatcher, message: ConsumeMessage | null): void {
    if (message === null) {
      this.deps.log.warn({ agentId: this.agentId }, 'RabbitMQ cancelled the consumer (queue deleted?)');
      return;
    }
    acks.track(message);
    // stopping: left unacknowledged, so the channel's close returns it in order with the rest
    if (channel !== this.#channel) return;
    this.#inFlight++;
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
      this.#logOutcome(delivery, wire, invalid, await this.#settle(acks, delivery, invalid), deliveryCount, startedAt);
      return;
    }
    let attempt = deliveryCount;
    const publishedAt = publishTimeMs(delivery) ?? Date.now();
    for (;;) {
      const reply = await this.emit(wire).then(parseDeliveryAck, () => ({ timeout: true as const }));
      const age = { ageMs: Date.now() - publishedAt, ttlMs: this.settings.messageTtlMs };
      const decision = decideDelivery(reply, attempt, this.settings.deliveryLimit, age);
      if (decision.action !== 'retry') {
        this.#logOutcome(delivery, wire, decision, await this.#settle(acks, delivery, decision), attempt, startedAt);
        return;
      }
      this.#logOutcome(delivery, wire, decision, 'retrying', attempt, startedAt);
      // the session or channel ended: the channel's close gave the message back to the head of the queue
      if (!(await this.#pauseBeforeRetry(channel, attempt, signal))) return;
      if (decision.isAttempt) attempt++;
    }
  }

  /** Waits the redelivery pause for `attempt`; false when this channel was stopped or replaced meanwhile. */
  async #pauseBeforeRetry(channel: Channel, attempt: number, signal: AbortSignal): Promise<boolean> {
    const delayMs = backoffDelayMs(attempt, {
      initialDelayMs: this.settings.redeliveryDelayMs,
      maxDelayMs: this.settings.redeliveryDelayMaxMs,
    });
    await sleep(delayMs, undefined, { signal }).catch(() => undefined);
    return !signal.aborted && this.#channel === channel;
  }

  async #settle(acks: AckBatcher, delivery: ConsumeMessage, decision: Exclude<DeliveryDecision, { action: 'retry' }>): Promise<string> {
    try {
      if (decision.action === 'ack') {
        acks.ack(delivery);
        return 'delivered';
      }
      await this.deps.broker.publish(DEAD_LETTER_EXCHANGE, this.agentId, delivery.content, {
        messageId: delivery.properties.messageId,
        type: delivery.properties.type,
        contentType: 'application/json',
        headers: { ...delivery.properties.headers, [REASON_CODE_HEADER]: decision.code, [REASON_HEADER]: decision.reason.slice(0, 1024) },
      });
      acks.ack(delivery);
      return 'dead-lettered';
    } catch (error) {
      // channel gone (disconnect, broker loss) or the DLQ publish failed: RabbitMQ redelivers, nothing is lost
      this.#tryRequeue(acks, delivery);
      this.deps.log.warn({ err: toDmrError(error), agentId: this.agentId }, 'could not settle delivery; left for redelivery');
      return 'requeued';
    }
  }

  #tryRequeue(acks: AckBatcher, delivery: ConsumeMessage): void {
    try {
      acks.nack(delivery, true);
    } catch {
      // the channel is closed, which already returned the message to the queue
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
