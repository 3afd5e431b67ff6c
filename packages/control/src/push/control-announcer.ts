import {
  type BrokerConfig,
  backoffDelayMs,
  CONTROL_EXCHANGE,
  type ControlAnnouncement,
  DmrError,
  type Logger,
  toDmrError,
} from '@dmr/shared';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { connectBroker } from '../migrate/index.js';

/** Connection status of the announcer (fed to /v1/ready detail and the logs; push is a hint, never a readiness condition). */
export type AnnouncerStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** How one announcement ended: confirmed by RabbitMQ, failed (nack, timeout, lost channel) or skipped (not connected). */
export type AnnounceResult = 'confirmed' | 'failed' | 'skipped';

/** What the announcer reports; wired to a counter by the service. */
export interface AnnouncerDeps {
  readonly log: Logger;
  readonly onResult?: (result: AnnounceResult) => void;
  /** Opens a connection; default `connectBroker` (the same variables, TLS and login as dmr-server and dmrctl). */
  readonly connect?: (config: BrokerConfig) => Promise<ChannelModel>;
}

/**
 * Publishes `{configVersion, kinds, at}` on the `dmr.control` fanout exchange with publisher confirms, over one
 * connection owned by one reconnect loop (capped exponential backoff with jitter). Announcements are hints: a failed
 * or skipped one is logged and counted and never reaches the API caller; servers catch up on their poll and at start.
 */
export class ControlAnnouncer {
  #status: AnnouncerStatus = 'idle';
  #model: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #wake = new AbortController();

  constructor(
    private readonly config: BrokerConfig,
    private readonly deps: AnnouncerDeps,
  ) {}

  /** Current connection status. */
  get status(): AnnouncerStatus {
    return this.#status;
  }

  /** Starts the connect loop and resolves at once; idempotent. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Publishes `announcement` in the background; the returned promise never rejects (tests await it). */
  announce(announcement: ControlAnnouncement): Promise<void> {
    const publish = this.#publish(announcement).then(
      (result) => this.#report(result, announcement),
      (error: unknown) => this.#report('failed', announcement, error),
    );
    this.#inFlight.add(publish);
    void publish.finally(() => this.#inFlight.delete(publish));
    return publish;
  }

  /** Waits for the announcements in flight, then closes the connection and ends the loop. Memoised. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    this.#status = 'closed';
    this.#wake.abort();
    await this.#model?.close().catch((error: unknown) => this.deps.log.debug({ err: error }, 'closing the announcer connection'));
    await this.#loop;
  }

  async #publish(announcement: ControlAnnouncement): Promise<AnnounceResult> {
    const channel = this.#channel;
    if (channel === undefined || this.#status !== 'connected') return 'skipped';
    const body = Buffer.from(JSON.stringify(announcement));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new DmrError('DMR_ROUTE_PUBLISH_FAILED', `no confirm within ${this.config.confirmTimeoutMs} ms`)),
        this.config.confirmTimeoutMs,
      );
      const options = { persistent: true, contentType: 'application/json', type: 'dmr.control.announcement' };
      channel.publish(CONTROL_EXCHANGE, '', body, options, (error: unknown) => {
        clearTimeout(timer);
        if (error) reject(new DmrError('DMR_ROUTE_PUBLISH_FAILED', 'RabbitMQ did not confirm the announcement', { cause: error }));
        else resolve();
      });
    });
    return 'confirmed';
  }

  #report(result: AnnounceResult, announcement: ControlAnnouncement, error?: unknown): void {
    this.deps.onResult?.(result);
    const fields = { configVersion: announcement.configVersion, kinds: announcement.kinds, result };
    if (result === 'confirmed') this.deps.log.debug(fields, 'config change announced');
    else this.deps.log.warn({ ...fields, ...(error ? { code: toDmrError(error).code, err: error } : {}) }, 'config change not announced');
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#isClosed()) {
      try {
        const closed = await this.#connectOnce();
        attempt = 0;
        await closed;
      } catch (error) {
        this.deps.log.error({ err: error, attempt, code: toDmrError(error).code }, 'announcer: RabbitMQ connect failed');
      }
      this.#channel = undefined;
      this.#model = undefined;
      if (this.#isClosed()) break;
      this.#status = 'reconnecting';
      const delayMs = backoffDelayMs(attempt++, {
        initialDelayMs: this.config.reconnectIntervalMs,
        maxDelayMs: this.config.reconnectIntervalMaxMs,
      });
      await sleep(delayMs, this.#wake.signal);
    }
  }

  // a method, not an inline comparison: stop() changes the status while the loop awaits
  #isClosed(): boolean {
    return this.#status === 'closed';
  }

  /** Connects, declares the exchange, opens the confirm channel; resolves with a promise that settles on connection loss. */
  async #connectOnce(): Promise<Promise<void>> {
    this.#status = this.#status === 'idle' ? 'connecting' : 'reconnecting';
    const model = await (this.deps.connect ?? connectBroker)(this.config);
    const closed = new Promise<void>((resolve) => model.once('close', () => resolve()));
    model.on('error', (error: Error) => this.deps.log.warn({ err: error }, 'announcer: RabbitMQ connection error'));
    try {
      const channel = await model.createConfirmChannel();
      channel.on('error', (error: Error) => this.deps.log.warn({ err: error }, 'announcer: channel error'));
      // a lost channel makes every later publish fail: recycle the connection so the loop rebuilds both
      channel.on('close', () => void model.close().catch(() => undefined));
      await channel.assertExchange(CONTROL_EXCHANGE, 'fanout', { durable: true });
      this.#model = model;
      this.#channel = channel;
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
    if (this.#isClosed()) {
      await model.close().catch(() => undefined);
      return closed;
    }
    this.#status = 'connected';
    this.deps.log.info({ exchange: CONTROL_EXCHANGE }, 'announcer: RabbitMQ connected');
    return closed;
  }
}

/** Sleeps `ms`, or until `signal` aborts (stop never waits out a backoff). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
