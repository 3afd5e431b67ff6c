import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { backoffDelayMs, coalesceWrites, DmrError, type Logger } from '@dmr/shared';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type Message, type Options } from 'amqplib';
import type { BrokerConfig, BrokerEndpoint } from '../config/index.js';
import { brokerUrl } from '../config/index.js';
import { CancellableSleep } from './cancellable-sleep.js';
import { BrokerNack, isNackFromAmqplib } from './publish-refusal.js';
import { brokerSocketOptions } from './socket-options.js';

/** Connection status, fed to /v1/ready and metrics. */
export type BrokerStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/**
 * Runs on every (re)connect before the connection is reported usable (assert the topology). `openChannel` opens
 * channels on the new connection with their 'error' events handled; the set-up closes what it opens.
 */
export type BrokerSetup = (openChannel: () => Promise<Channel>) => Promise<void>;

interface PendingPublish {
  readonly resolve: () => void;
  readonly reject: (error: DmrError) => void;
  readonly timer: NodeJS.Timeout;
  isReturned: boolean;
}

/** Typed listener map of {@link BrokerConnection}. */
export interface BrokerEvents {
  connected: [];
  disconnected: [];
  /** RabbitMQ blocked this connection's publishing (`connection.blocked`, a memory or disk alarm). */
  blocked: [reason: string];
  unblocked: [];
}

/**
 * The server's one AMQP connection, with the one reconnect loop that owns it
 * (capped exponential backoff + jitter). Publishes go through a confirm channel and resolve
 * only when RabbitMQ confirmed them; unroutable publishes (mandatory) are failures, never silent drops.
 */
export class BrokerConnection extends EventEmitter<BrokerEvents> {
  #status: BrokerStatus = 'idle';
  #model: ChannelModel | undefined;
  #publisher: ConfirmChannel | undefined;
  #publishSeq = 0;
  readonly #pending = new Map<string, PendingPublish>();
  readonly #sleep = new CancellableSleep();
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  // which of config.endpoints the next connect tries; advanced after every failure or loss (round-robin)
  #endpointIndex = 0;
  // set between connection.blocked and connection.unblocked of the current connection
  #blockedReason: string | undefined;
  // settles once a recycle() reconnected or gave up; publishes arriving meanwhile wait for it (at most RECYCLE_HOLD_MS)
  #recycled: Promise<void> | undefined;
  // a recycle() closed the connection on purpose: reconnect without the backoff pause, once
  #isReconnectPlanned = false;

  constructor(
    private readonly config: BrokerConfig,
    private readonly setup: BrokerSetup,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Current status. */
  get status(): BrokerStatus {
    return this.#status;
  }

  /** True while publishes and new consumers can be served. */
  get isConnected(): boolean {
    return this.#status === 'connected';
  }

  /** Why RabbitMQ blocks publishing right now (resource alarm), or undefined when it does not. */
  get blockedReason(): string | undefined {
    return this.#blockedReason;
  }

  /** Starts the connect loop; resolves at once (readiness is reported through `status`). Idempotent. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Resolves when connected, or rejects after `timeoutMs`. */
  async waitUntilConnected(timeoutMs: number): Promise<void> {
    if (this.isConnected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', `RabbitMQ not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  /**
   * Publishes persistently with `mandatory` and resolves on the broker's confirm.
   * Rejects with DMR_ROUTE_BROKER_UNAVAILABLE when not connected, DMR_ROUTE_BROKER_BLOCKED at once while
   * RabbitMQ blocks publishing (it would hold the message until the confirm timeout), DMR_ROUTE_PUBLISH_FAILED
   * on nack, return (no queue bound), channel loss or confirm timeout.
   */
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish = {}): Promise<void> {
    const recycled = this.#recycled;
    if (recycled === undefined) return this.#publishNow(exchange, routingKey, content, options);
    // a planned reconnect (recycle) takes a few hundred ms: waiting beats refusing the sender
    return settledWithin(recycled, RECYCLE_HOLD_MS).then(() => this.#publishNow(exchange, routingKey, content, options));
  }

  #publishNow(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    const channel = this.#publisher;
    if (!channel || !this.isConnected) {
      return Promise.reject(new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', 'RabbitMQ is not connected'));
    }
    if (this.#blockedReason !== undefined) {
      return Promise.reject(new DmrError('DMR_ROUTE_BROKER_BLOCKED', `RabbitMQ blocked publishing: ${this.#blockedReason}`));
    }
    const seq = `p${++this.#publishSeq}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(seq, 'confirm timed out'), this.config.confirmTimeoutMs);
      this.#pending.set(seq, { resolve, reject, timer, isReturned: false });
      try {
        channel.publish(exchange, routingKey, content, { ...options, persistent: true, mandatory: true, correlationId: seq }, (error) =>
          this.#settle(seq, error ? confirmFailureOf(error) : undefined, isNackFromAmqplib(error)),
        );
      } catch (error) {
        this.#settle(seq, `publish failed: ${(error as Error).message}`);
      }
    });
  }

  /** Opens a plain channel on the current connection (consumers own theirs). */
  async openChannel(): Promise<Channel> {
    if (!this.#model || !this.isConnected) throw new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', 'RabbitMQ is not connected');
    let channel: Channel;
    try {
      channel = await this.#model.createChannel();
    } catch (error) {
      // amqplib's wording when the negotiated channel_max is used up: one channel per connected agent
      if (/no channels left/i.test((error as Error).message)) {
        throw new DmrError(
          'DMR_ROUTE_BROKER_UNAVAILABLE',
          "RabbitMQ's channel limit is used up (one channel per connected agent): raise channel_max on the broker or run more server instances",
        );
      }
      throw error;
    }
    channel.on('error', (error: Error) => this.log.warn({ err: error }, 'consumer channel error'));
    return channel;
  }

  /**
   * Reconnects now so the TLS files are read anew (issue 18: a rotated client certificate), at a quiet moment: new
   * publishes wait (at most {@link RECYCLE_HOLD_MS}, then they are refused with DMR_ROUTE_BROKER_UNAVAILABLE, transient)
   * while those awaiting RabbitMQ's confirm settle (at most `confirmTimeoutMs`); then the connection closes, the loop
   * reconnects without a backoff pause, and the waiting publishes go out on the new connection. Deliveries an agent
   * has not acked return to their queues and are redelivered (the agent's duplicate window suppresses a second post).
   * Without a connection it returns at once: the loop reads the files on every attempt. Rejects with
   * DMR_ROUTE_BROKER_UNAVAILABLE when not reconnected within `timeoutMs` (the loop keeps trying).
   */
  async recycle(reason: string, timeoutMs = 30_000): Promise<void> {
    const model = this.#model;
    if (!model || !this.isConnected || this.#recycled) return;
    let release = (): void => undefined;
    this.#recycled = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      this.log.info({ reason, pendingConfirms: this.#pending.size }, 'reconnecting to RabbitMQ at a quiet moment');
      const deadline = Date.now() + this.config.confirmTimeoutMs;
      while (this.#pending.size > 0 && Date.now() < deadline && this.#model === model) await pause(5);
      const reconnected = this.#waitUntilReconnected(timeoutMs);
      this.#isReconnectPlanned = true;
      await model.close().catch((error: unknown) => this.log.debug({ err: error }, 'closing RabbitMQ connection for a reconnect'));
      await reconnected;
    } finally {
      this.#recycled = undefined;
      release();
    }
  }

  /** Resolves on the next `connected` event, or rejects with DMR_ROUTE_BROKER_UNAVAILABLE after `timeoutMs`. */
  #waitUntilReconnected(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', `RabbitMQ not reconnected within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  /** Stops the loop, fails pending publishes, closes the connection. Memoised. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#status = 'closed';
    this.#sleep.cancel();
    try {
      await this.#model?.close();
    } catch (error) {
      this.log.debug({ err: error }, 'closing RabbitMQ connection');
    }
    this.#failPending('server is stopping');
    await this.#loop;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#isClosed()) {
      try {
        const closed = await this.#connectOnce();
        attempt = 0;
        await closed;
      } catch (error) {
        this.log.error({ err: error, attempt, endpoint: this.#endpointLabel() }, 'RabbitMQ connect failed');
      }
      if (this.#isClosed()) break;
      const isPlanned = this.#isReconnectPlanned;
      this.#isReconnectPlanned = false;
      this.#markDown();
      if (isPlanned) continue;
      this.#endpointIndex++;
      const delayMs = backoffDelayMs(attempt++, {
        initialDelayMs: this.config.reconnectIntervalMs,
        maxDelayMs: this.config.reconnectIntervalMaxMs,
      });
      this.log.info({ delayMs }, 'reconnecting to RabbitMQ');
      await this.#sleep.sleep(delayMs);
    }
  }

  /** Connects, builds the publish channel, runs setup; returns a promise that settles when the connection is lost. */
  async #connectOnce(): Promise<Promise<void>> {
    this.#status = this.#status === 'idle' ? 'connecting' : 'reconnecting';
    const endpoint = this.#endpoint();
    // heartbeat goes in the URL: amqplib reads it from there, not from the socket options
    const model = await amqp.connect(
      `${brokerUrl(this.config, endpoint)}?heartbeat=${this.config.heartbeatS}`,
      await brokerSocketOptions(this.config, endpoint.host),
    );
    const stream = socketOf(model);
    if (stream) coalesceWrites(stream);
    const closed = new Promise<void>((resolve) => model.once('close', () => resolve()));
    model.on('error', (error: Error) => this.log.warn({ err: error }, 'RabbitMQ connection error'));
    model.on('blocked', (reason: string) => this.#onBlocked(model, reason));
    model.on('unblocked', () => this.#onUnblocked(model));
    try {
      this.#model = model;
      this.#publisher = await this.#openPublisher(model);
      await this.setup(() => this.#openSetupChannel(model));
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
    if (this.#isClosed()) {
      await model.close().catch(() => undefined);
      return closed;
    }
    this.#status = 'connected';
    this.log.info({ endpoint: this.#endpointLabel() }, 'RabbitMQ connected, topology asserted');
    this.emit('connected');
    return closed;
  }

  async #openSetupChannel(model: ChannelModel): Promise<Channel> {
    const channel = await model.createChannel();
    // a refused declare closes the channel with an error event; the set-up sees it as the rejected call
    channel.on('error', (error: Error) => this.log.debug({ err: error }, 'set-up channel closed by RabbitMQ'));
    return channel;
  }

  #onBlocked(model: ChannelModel, reason: string): void {
    if (model !== this.#model) return;
    this.#blockedReason = String(reason);
    this.log.error({ code: 'DMR_ROUTE_BROKER_BLOCKED', reason }, 'RabbitMQ blocked publishing (resource alarm); refusing publishes');
    this.emit('blocked', this.#blockedReason);
  }

  #onUnblocked(model: ChannelModel): void {
    if (model !== this.#model || this.#blockedReason === undefined) return;
    this.#blockedReason = undefined;
    this.log.warn('RabbitMQ unblocked publishing');
    this.emit('unblocked');
  }

  async #openPublisher(model: ChannelModel): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    channel.on('return', (message: Message) => {
      const pending = this.#pending.get(String(message.properties.correlationId));
      if (pending) pending.isReturned = true;
    });
    channel.on('error', (error: Error) => this.log.error({ err: error }, 'publish channel error'));
    // A lost publish channel makes every later publish fail; recycle the whole connection so the loop rebuilds it.
    channel.on('close', () => {
      this.#failPending('publish channel closed');
      if (this.#status === 'connected') model.close().catch(() => undefined);
    });
    return channel;
  }

  #endpoint(): BrokerEndpoint {
    const { endpoints } = this.config;
    return endpoints.length > 0 ? (endpoints[this.#endpointIndex % endpoints.length] as BrokerEndpoint) : this.config;
  }

  #endpointLabel(): string {
    const { host, port } = this.#endpoint();
    return `${host}:${port}`;
  }

  #isClosed(): boolean {
    return this.#status === 'closed';
  }

  #settle(seq: string, failure: string | undefined, isNack = false): void {
    const pending = this.#pending.get(seq);
    if (!pending) return;
    this.#pending.delete(seq);
    clearTimeout(pending.timer);
    // a nack is marked (BrokerNack) so QueueFullTranslator can tell a full queue from a lost channel
    if (failure) pending.reject(new DmrError('DMR_ROUTE_PUBLISH_FAILED', failure, isNack ? { cause: new BrokerNack() } : undefined));
    else if (pending.isReturned) pending.reject(new DmrError('DMR_ROUTE_PUBLISH_FAILED', 'no queue is bound for the recipient'));
    else pending.resolve();
  }

  #failPending(reason: string): void {
    for (const seq of [...this.#pending.keys()]) this.#settle(seq, reason);
  }

  #markDown(): void {
    const wasConnected = this.#status === 'connected';
    this.#status = 'reconnecting';
    this.#publisher = undefined;
    this.#model = undefined;
    // the block belonged to the lost connection; a new one is told again if the alarm still holds
    if (this.#blockedReason !== undefined) {
      this.#blockedReason = undefined;
      this.emit('unblocked');
    }
    this.#failPending('RabbitMQ connection lost');
    if (wasConnected) {
      this.log.warn('RabbitMQ connection lost');
      this.emit('disconnected');
    }
  }
}

/** How long publishes wait for a planned reconnect ({@link BrokerConnection.recycle}) before they are refused. */
export const RECYCLE_HOLD_MS = 1000;

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
function settledWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function confirmFailureOf(error: unknown): string {
  return isNackFromAmqplib(error) ? 'RabbitMQ refused the message (nack)' : 'the publish channel closed before RabbitMQ confirmed';
}

/** The socket under an amqplib connection (not in its public types; absent in a future version means no coalescing). */
function socketOf(model: ChannelModel): Writable | undefined {
  const stream: unknown = (model.connection as unknown as { stream?: unknown }).stream;
  return stream instanceof Writable ? stream : undefined;
}
