import {
  agentQueueName,
  compileValidator,
  DEAD_LETTER_EXCHANGE,
  type DeliveryAck,
  type Logger,
  REASON_CODE_HEADER,
  REASON_HEADER,
  toDmrError,
  type WireMessageBody,
  WireMessageSchema,
} from '@dmr/shared';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from '../amqp/index.js';
import type { ServerMetrics } from '../obs/index.js';
import { type DeliveryDecision, decideDelivery } from './delivery-decision.js';

/** Sends one message to the connected agent; rejects on ack timeout or disconnect. */
export type EmitDelivery = (message: WireMessageBody) => Promise<DeliveryAck>;

/** Settings of a delivery loop. */
export interface DeliverySettings {
  readonly prefetch: number;
  readonly deliveryLimit: number;
}

/** Dependencies of a delivery loop. */
export interface DeliveryDeps {
  readonly broker: Pick<BrokerConnection, 'openChannel' | 'publish'>;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
}

const validateWire = compileValidator<WireMessageBody>(WireMessageSchema);

/**
 * Consumes one agent's queue while that agent is connected to this instance and acks RabbitMQ only
 * after the agent acked. Each consumer owns its channel; a delivery is always settled on the channel it came from.
 */
export class AgentDelivery {
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
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
    const channel = await this.deps.broker.openChannel();
    await channel.prefetch(this.settings.prefetch);
    const { consumerTag } = await channel.consume(agentQueueName(this.agentId), (message) => this.#onMessage(channel, message));
    this.#channel = channel;
    this.#consumerTag = consumerTag;
  }

  /** Stops taking deliveries, waits up to `drainMs` for in-flight ones, then closes the channel (RabbitMQ requeues the rest). */
  async stop(drainMs: number): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    if (!channel) return;
    try {
      if (this.#consumerTag) await channel.cancel(this.#consumerTag);
      await this.#waitIdle(drainMs);
      await channel.close();
    } catch (error) {
      this.deps.log.debug({ err: error }, 'closing delivery channel');
    }
  }

  #onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      this.deps.log.warn({ agentId: this.agentId }, 'RabbitMQ cancelled the consumer (queue deleted?)');
      return;
    }
    this.#inFlight++;
    void this.#deliver(channel, message).finally(() => {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    });
  }

  async #deliver(channel: Channel, delivery: ConsumeMessage): Promise<void> {
    const startedAt = performance.now();
    const deliveryCount = Number(delivery.properties.headers?.['x-delivery-count'] ?? 0);
    const wire = parseWire(delivery.content);
    let decision: DeliveryDecision;
    if (!wire) {
      decision = { action: 'dead-letter', code: 'DMR_DELIVERY_INVALID_MESSAGE', reason: 'queued body is not a valid wire message' };
    } else {
      const reply = await this.emit(wire).catch(() => ({ timeout: true as const }));
      decision = decideDelivery(reply, deliveryCount, this.settings.deliveryLimit);
    }
    const result = await this.#settle(channel, delivery, decision);
    this.#logOutcome(delivery, wire, decision, result, deliveryCount, startedAt);
  }

  async #settle(channel: Channel, delivery: ConsumeMessage, decision: DeliveryDecision): Promise<string> {
    try {
      if (decision.action === 'ack') {
        channel.ack(delivery);
        return 'delivered';
      }
      if (decision.action === 'requeue') {
        channel.nack(delivery, false, true);
        return 'requeued';
      }
      await this.deps.broker.publish(DEAD_LETTER_EXCHANGE, this.agentId, delivery.content, {
        messageId: delivery.properties.messageId,
        type: delivery.properties.type,
        contentType: 'application/json',
        headers: { ...delivery.properties.headers, [REASON_CODE_HEADER]: decision.code, [REASON_HEADER]: decision.reason.slice(0, 1024) },
      });
      channel.ack(delivery);
      return 'dead-lettered';
    } catch (error) {
      // channel gone (disconnect, broker loss) or the DLQ publish failed: RabbitMQ redelivers, nothing is lost
      this.#tryRequeue(channel, delivery);
      this.deps.log.warn({ err: toDmrError(error), agentId: this.agentId }, 'could not settle delivery; left for redelivery');
      return 'requeued';
    }
  }

  #tryRequeue(channel: Channel, delivery: ConsumeMessage): void {
    try {
      channel.nack(delivery, false, true);
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
    this.deps.metrics.messagesTotal.inc({ stage: 'delivery', result, code: code ?? 'none' });
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
    if (result === 'delivered') this.deps.log.info(fields, 'message outcome');
    else this.deps.log.warn(fields, 'message outcome');
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

function parseWire(content: Buffer): WireMessageBody | undefined {
  try {
    const checked = validateWire(JSON.parse(content.toString('utf8')));
    return checked.ok ? checked.value : undefined;
  } catch {
    return undefined;
  }
}
