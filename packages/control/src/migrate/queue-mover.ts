import { DEAD_LETTER_EXCHANGE, DmrError, MESSAGES_EXCHANGE, toDmrError } from '@dmr/shared';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import type { ConvertedMessage, SourceMessage } from './seed003-format.js';

/** How many messages one queue's move settled, by outcome. */
export interface MoveCounts {
  /** Valid messages now in the agent's inbox. */
  moved: number;
  /** Seed-003 dead letters now in the agent's DLQ. */
  deadLetters: number;
  /** Unusable bodies from the inbox, dead-lettered with DMR_DELIVERY_INVALID_MESSAGE. */
  invalid: number;
}

/** Settings of one move. */
export interface MoveSettings {
  /** Messages published and not yet confirmed and acked at most (consumer prefetch). */
  readonly windowSize: number;
  /** Exclusive consumer: no other consumer may attach to the source while it moves. */
  readonly isExclusive: boolean;
  /** How long the source must stay quiet, ms, before its depth is checked for the end. */
  readonly idleMs: number;
  /** Most ms RabbitMQ may take to confirm a publish before the move fails (`RABBITMQ_CONFIRM_TIMEOUT_MS`). */
  readonly confirmTimeoutMs: number;
  /** Ends the move early: consuming stops, what is in flight settles, the rest stays in the source. */
  readonly signal?: AbortSignal | undefined;
  /** Called after each settled batch with the running counts. */
  readonly onProgress?: ((counts: Readonly<MoveCounts>) => void) | undefined;
}

/** The connections of a move: to the vhost of the seed-003 queues and to DMR's. */
export interface BrokerPair {
  readonly source: ChannelModel;
  readonly destination: ChannelModel;
}

/** One consumed message on its way: published, waiting for its confirm, then acked at the source. */
interface InFlight {
  readonly delivery: Message;
  readonly outcome: ConvertedMessage['outcome'];
  isConfirmed: boolean;
}

/**
 * Moves every message of one source queue to DMR's queues of one agent, at least once and in order: each message is
 * converted, published with a publisher confirm (mandatory: a missing binding fails it), and acked at the source only
 * after RabbitMQ confirmed it. A crash between confirm and ack leaves the message in both places; the copy carries the
 * same wire id, so the recipient agent's duplicate window (and the endpoint's Idempotency-Key) suppress it.
 *
 * The source is drained until it holds no ready message after `idleMs` of quiet with nothing in flight. Any failure
 * (nack, return, confirm timeout, lost channel) ends the move: the channels close, RabbitMQ returns every unacked
 * message to the source, and the error (a DmrError) propagates with the counts reached so far on it.
 */
export class QueueMover {
  readonly #counts: MoveCounts = { moved: 0, deadLetters: 0, invalid: 0 };
  readonly #inFlight: InFlight[] = [];
  #failure: DmrError | undefined;
  #lastActivityAt = Date.now();
  #sequence = 0;
  readonly #returned = new Set<string>();

  /** `brokers.source` holds the seed-003 queue, `brokers.destination` DMR's (the same connection unless another vhost). */
  constructor(
    private readonly brokers: BrokerPair,
    private readonly settings: MoveSettings,
  ) {}

  /** Runs the move of `source`; `convert` turns each source message into DMR's format. Resolves with the counts. */
  async move(source: string, agentId: string, convert: (message: SourceMessage) => ConvertedMessage): Promise<MoveCounts> {
    const consumer = await this.brokers.source.createChannel();
    const publisher = await this.brokers.destination.createConfirmChannel();
    consumer.on('error', (error: Error) => this.#fail(translate(error, source)));
    publisher.on('error', (error: Error) => this.#fail(translate(error, source)));
    publisher.on('return', (message: Message) => this.#returned.add(String(message.properties.correlationId)));
    try {
      await consumer.prefetch(this.settings.windowSize);
      const { consumerTag } = await consumer.consume(
        source,
        (delivery) => this.#onDelivery(delivery, agentId, publisher, consumer, convert),
        { noAck: false, exclusive: this.settings.isExclusive },
      );
      await this.#waitUntilDrained(consumer, source);
      await consumer.cancel(consumerTag).catch(() => undefined);
      await this.#waitInFlight();
      if (this.#failure) throw this.#failure;
      return { ...this.#counts };
    } catch (error) {
      throw this.#failure ?? translate(error, source);
    } finally {
      await publisher.close().catch(() => undefined);
      // unacked deliveries (a failure, or none) go back to the head of the source queue with the close
      await consumer.close().catch(() => undefined);
    }
  }

  /** The counts so far (also after a failure). */
  get counts(): Readonly<MoveCounts> {
    return this.#counts;
  }

  #onDelivery(
    delivery: ConsumeMessage | null,
    agentId: string,
    publisher: ConfirmChannel,
    consumer: Channel,
    convert: (message: SourceMessage) => ConvertedMessage,
  ): void {
    if (delivery === null) {
      this.#fail(new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', 'RabbitMQ cancelled the consumer of the source queue (deleted?)'));
      return;
    }
    this.#lastActivityAt = Date.now();
    // after a failure or an abort nothing more is published; the close returns the delivery to the source
    if (this.#failure || this.settings.signal?.aborted) return;
    const converted = convert(delivery);
    const entry: InFlight = { delivery, outcome: converted.outcome, isConfirmed: false };
    this.#inFlight.push(entry);
    const correlationId = String(++this.#sequence);
    const exchange = converted.destination === 'inbox' ? MESSAGES_EXCHANGE : DEAD_LETTER_EXCHANGE;
    const timer = setTimeout(
      () => this.#fail(new DmrError('DMR_ROUTE_PUBLISH_FAILED', `RabbitMQ did not confirm within ${this.settings.confirmTimeoutMs} ms`)),
      this.settings.confirmTimeoutMs,
    );
    publisher.publish(
      exchange,
      agentId,
      converted.content,
      {
        persistent: true,
        mandatory: true,
        contentType: 'application/json',
        type: 'ChatMessage',
        // a fresh TTL in DMR's queue: RabbitMQ's message-ttl counts from this enqueue, and the server's age check must agree
        timestamp: Math.floor(Date.now() / 1000),
        correlationId,
        headers: converted.headers,
        ...(converted.messageId === undefined ? {} : { messageId: converted.messageId }),
      },
      (error: unknown) => {
        clearTimeout(timer);
        this.#onConfirm(entry, correlationId, error, consumer);
      },
    );
  }

  #onConfirm(entry: InFlight, correlationId: string, error: unknown, consumer: Channel): void {
    if (error) {
      this.#fail(new DmrError('DMR_ROUTE_PUBLISH_FAILED', 'RabbitMQ refused a moved message (nack): is the destination queue full?'));
      return;
    }
    if (this.#returned.delete(correlationId)) {
      this.#fail(
        new DmrError('DMR_ROUTE_PUBLISH_FAILED', 'no DMR queue is bound for the agent (the move declares it: was it deleted meanwhile?)'),
      );
      return;
    }
    entry.isConfirmed = true;
    this.#ackConfirmedHead(consumer);
  }

  /** Acks the longest confirmed run at the head with one `multiple` ack: tags rise on a channel, so it covers exactly that run. */
  #ackConfirmedHead(consumer: Channel): void {
    // also after a failure: a confirmed message acked now is one copy fewer for the next run to move again
    let last: InFlight | undefined;
    while (this.#inFlight[0]?.isConfirmed) {
      last = this.#inFlight.shift();
      if (last) this.#count(last.outcome);
    }
    if (!last) return;
    this.#lastActivityAt = Date.now();
    try {
      consumer.ack(last.delivery, true);
    } catch (error) {
      this.#fail(translate(error, 'the source queue'));
      return;
    }
    this.settings.onProgress?.(this.#counts);
  }

  #count(outcome: ConvertedMessage['outcome']): void {
    if (outcome === 'moved') this.#counts.moved++;
    else if (outcome === 'dead-letter') this.#counts.deadLetters++;
    else this.#counts.invalid++;
  }

  #fail(error: DmrError): void {
    this.#failure ??= error;
  }

  /** Resolves once the source is empty and quiet (or on failure or abort). */
  async #waitUntilDrained(consumer: Channel, source: string): Promise<void> {
    for (;;) {
      await sleep(Math.min(100, this.settings.idleMs));
      if (this.#failure || this.settings.signal?.aborted) return;
      const isQuiet = this.#inFlight.length === 0 && Date.now() - this.#lastActivityAt >= this.settings.idleMs;
      if (!isQuiet) continue;
      const { messageCount } = await consumer.checkQueue(source);
      if (messageCount === 0) return;
      this.#lastActivityAt = Date.now();
    }
  }

  async #waitInFlight(): Promise<void> {
    while (this.#inFlight.length > 0 && !this.#failure) await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** amqplib's channel errors as DMR codes (translated once, here at the edge). */
export function translate(error: unknown, source: string): DmrError {
  if (error instanceof DmrError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 403 && /exclusive/i.test(message)) {
    return new DmrError(
      'DMR_MIGRATE_SOURCE_IN_USE',
      `${source} has another consumer (a seed-003 server?); nothing more was moved from it`,
      {
        cause: error,
      },
    );
  }
  if (code === 404) return new DmrError('DMR_ROUTE_QUEUE_UNAVAILABLE', `${source}: ${message}`, { cause: error });
  return toDmrError(error, 'DMR_ROUTE_BROKER_UNAVAILABLE');
}
