import { randomUUID } from 'node:crypto';
import { type BackoffSettings, backoffDelayMs, CONTROL_EXCHANGE, controlQueueName, type Logger, toDmrError } from '@dmr/shared';
import type { Channel, ConsumeMessage } from 'amqplib';

/** What the listener needs from the broker connection (the server's `BrokerConnection` fits). */
export interface ListenerBroker {
  readonly isConnected: boolean;
  openChannel(): Promise<Channel>;
  on(event: 'connected', listener: () => void): unknown;
  off(event: 'connected', listener: () => void): unknown;
}

/** Where the listener stands, for `/v1/ready` (`checks.controlPush`). */
export type ListenerStatus = 'off' | 'unbound' | 'binding' | 'bound';

/** Listener dependencies. */
export interface ListenerDeps {
  readonly broker: ListenerBroker;
  /** This server's `DMR_INSTANCE_ID` (part of its queue name). */
  readonly instanceId: string;
  /** Handles one message body; must not throw (the listener logs it if it does). */
  readonly onMessage: (body: Buffer) => void;
  /** After every successful binding: announcements sent while unbound were missed, so the caller catches up. */
  readonly onBound: () => void;
  /** Pause before binding again after RabbitMQ cancelled the consumer or closed the channel. */
  readonly backoff: BackoffSettings;
  readonly log: Logger;
}

/** Unacknowledged announcements in flight to this server: each is handled in microseconds, so a small window suffices. */
const PREFETCH = 32;

/**
 * Binds this server to the `dmr.control` fanout exchange (issue 18, docs/control-plane.md): on every (re)connect it
 * declares the exchange (durable, no arguments: declare-by-policy), an exclusive auto-delete queue of its own
 * (`dmr.control.<instanceId>.<nonce>`) bound to it, and consumes. A consumer RabbitMQ cancels or a channel it closes
 * while the connection lives is bound again after a backoff; a lost connection is bound again on `connected`.
 */
export class AnnouncementListener {
  #status: ListenerStatus = 'off';
  #channel: Channel | undefined;
  #generation = 0;
  #attempt = 0;
  #retry: NodeJS.Timeout | undefined;
  #isStopped = false;
  readonly #onConnected = (): void => void this.#bind();

  constructor(private readonly deps: ListenerDeps) {}

  /** Current status. */
  get status(): ListenerStatus {
    return this.#status;
  }

  /** Binds now if connected, and after every reconnect. Idempotent. */
  start(): void {
    if (this.#status !== 'off' || this.#isStopped) return;
    this.#status = 'unbound';
    this.deps.broker.on('connected', this.#onConnected);
    if (this.deps.broker.isConnected) void this.#bind();
  }

  /** Stops consuming and closes the channel (the queue goes with it). Idempotent. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#generation++;
    clearTimeout(this.#retry);
    this.deps.broker.off('connected', this.#onConnected);
    this.#status = 'off';
    await this.#channel?.close().catch(() => undefined);
    this.#channel = undefined;
  }

  async #bind(): Promise<void> {
    if (this.#isStopped) return;
    clearTimeout(this.#retry);
    const generation = ++this.#generation;
    this.#status = 'binding';
    const previous = this.#channel;
    this.#channel = undefined;
    await previous?.close().catch(() => undefined);
    try {
      const channel = await this.deps.broker.openChannel();
      if (generation !== this.#generation) {
        await channel.close().catch(() => undefined);
        return;
      }
      this.#channel = channel;
      channel.on('close', () => this.#onLost(generation, 'channel closed'));
      const queue = await this.#declare(channel);
      await channel.consume(queue, (message) => this.#onDelivery(channel, generation, message), { noAck: false });
      this.#status = 'bound';
      this.#attempt = 0;
      this.deps.log.info({ queue, exchange: CONTROL_EXCHANGE }, 'listening for control plane announcements');
      this.deps.onBound();
    } catch (error) {
      if (generation !== this.#generation) return;
      this.deps.log.warn({ err: toDmrError(error) }, 'could not bind to dmr.control; the poll still runs, retrying');
      this.#onLost(generation, 'bind failed');
    }
  }

  async #declare(channel: Channel): Promise<string> {
    const queue = controlQueueName(this.deps.instanceId, randomUUID().slice(0, 8));
    await channel.prefetch(PREFETCH);
    await channel.assertExchange(CONTROL_EXCHANGE, 'fanout', { durable: true });
    // exclusive and auto-delete: the queue lives exactly as long as this connection, announcements are hints
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-queue-type': 'classic' } });
    await channel.bindQueue(queue, CONTROL_EXCHANGE, '');
    return queue;
  }

  #onDelivery(channel: Channel, generation: number, message: ConsumeMessage | null): void {
    if (message === null) {
      // RabbitMQ cancelled the consumer (queue deleted by an operator): bind a fresh queue
      this.#onLost(generation, 'consumer cancelled by RabbitMQ');
      return;
    }
    try {
      this.deps.onMessage(message.content);
    } catch (error) {
      this.deps.log.error({ err: toDmrError(error) }, 'control announcement handler failed; announcement dropped');
    }
    try {
      channel.ack(message);
    } catch {
      // the channel closed under us: its 'close' event rebinds
    }
  }

  /** The binding of `generation` is gone: rebind after a backoff while the connection lives (else `connected` rebinds). */
  #onLost(generation: number, reason: string): void {
    if (generation !== this.#generation || this.#isStopped) return;
    this.#generation++;
    this.#status = 'unbound';
    this.#channel = undefined;
    if (!this.deps.broker.isConnected) return;
    const delayMs = backoffDelayMs(this.#attempt++, this.deps.backoff);
    this.deps.log.warn({ reason, delayMs }, 'dmr.control binding lost; binding again');
    // a reconnect may have bound again meanwhile
    this.#retry = setTimeout(() => {
      if (this.#status === 'unbound') void this.#bind();
    }, delayMs);
    this.#retry.unref();
  }
}
