// The audit writer's I/O shell: consumes the dmr.audit stream queue (AMQP 0.9.1: prefetch, manual acks,
// x-stream-offset) from just after the last stored offset, appends in batches through the AuditAppender (dedupe by
// eventId), acks what is committed, signs heads on a timer, and reports its lag.

import type { Logger } from '@dmr/shared';
import { AUDIT_STREAM, type AuditEvent, assertAuditStream, parseAuditEvent } from '@dmr/shared/audit';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { AuditAppender, IncomingEvent } from '../audit/index.js';
import type { AuditLogStore } from '../store/index.js';

/** Stream messages in flight to the writer (prefetch) and the most it appends in one transaction. */
export const AUDIT_WRITER_PREFETCH = 2000;
/** How long the writer gathers messages before appending them, ms. */
export const AUDIT_WRITER_FLUSH_MS = 100;
/** Wait before reconnecting after the broker connection is lost, ms. */
export const AUDIT_WRITER_RECONNECT_MS = 2000;

/** What the writer reports to the metrics. */
export interface AuditWriterMetrics {
  /** `dmr_audit_entries_total`. */
  readonly entriesAppended: (count: number) => void;
  /** `dmr_audit_writer_lag_events`. */
  readonly lag: (events: number) => void;
  /** `dmr_audit_writer_events_total{result}`: appended, duplicate, invalid. */
  readonly events: (result: 'appended' | 'duplicate' | 'invalid', count: number) => void;
}

/** The writer's dependencies. */
export interface AuditStreamWriterDeps {
  readonly connect: () => Promise<ChannelModel>;
  readonly appender: AuditAppender;
  readonly store: AuditLogStore;
  readonly log: Logger;
  readonly metrics: AuditWriterMetrics;
  /** DMR_AUDIT_HEAD_EVERY_MS: the head timer's period. */
  readonly headEveryMs: number;
}

/** Lifecycle state. */
export type AuditWriterState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Consumes `dmr.audit` into the Merkle log; `start()`/`stop()` idempotent. */
export class AuditStreamWriter {
  readonly #deps: AuditStreamWriterDeps;
  #state: AuditWriterState = 'idle';
  #model: ChannelModel | undefined;
  #channel: Channel | undefined;
  #buffer: ConsumeMessage[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #flushTimer: NodeJS.Timeout | undefined;
  #headTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #lastOffset: number | undefined;
  #stopped: Promise<void> | undefined;

  constructor(deps: AuditStreamWriterDeps) {
    this.#deps = deps;
  }

  get state(): AuditWriterState {
    return this.#state;
  }

  /** Connects and starts consuming; resolves once the consumer is registered. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'starting';
    this.#lastOffset = await this.#deps.store.lastStreamOffset();
    this.#headTimer = setInterval(() => this.#signIfDue(), this.#deps.headEveryMs);
    await this.#connect();
    this.#state = 'running';
  }

  /** Stops consuming, appends what was received, signs a final head, closes the connection. Memoised. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    clearInterval(this.#headTimer);
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#reconnectTimer);
    await this.#enqueueFlush();
    await this.#deps.appender
      .signIfDue(true)
      .catch((error: unknown) => this.#deps.log.error({ err: error }, 'audit writer: final head failed'));
    await this.#model?.close().catch(() => undefined);
    this.#state = 'stopped';
  }

  async #connect(): Promise<void> {
    const model = await this.#deps.connect();
    const channel = await model.createChannel();
    await assertAuditStream(channel);
    await channel.prefetch(AUDIT_WRITER_PREFETCH);
    const from = this.#lastOffset === undefined ? 'first' : this.#lastOffset + 1;
    await channel.consume(AUDIT_STREAM, (message) => this.#onMessage(message), { noAck: false, arguments: { 'x-stream-offset': from } });
    model.on('close', () => this.#onConnectionLost());
    model.on('error', (error: unknown) => this.#deps.log.warn({ err: error }, 'audit writer: broker connection error'));
    this.#model = model;
    this.#channel = channel;
    this.#deps.log.info({ from }, 'audit writer consuming dmr.audit');
  }

  #onConnectionLost(): void {
    this.#channel = undefined;
    this.#buffer = [];
    if (this.#state !== 'running') return;
    this.#deps.log.warn('audit writer: broker connection lost; reconnecting');
    this.#reconnectTimer = setTimeout(() => void this.#reconnect(), AUDIT_WRITER_RECONNECT_MS);
  }

  async #reconnect(): Promise<void> {
    try {
      await this.#flushing;
      this.#lastOffset = await this.#deps.store.lastStreamOffset();
      await this.#connect();
    } catch (error) {
      this.#deps.log.error({ err: error }, 'audit writer: reconnect failed');
      if (this.#state === 'running') this.#reconnectTimer = setTimeout(() => void this.#reconnect(), AUDIT_WRITER_RECONNECT_MS);
    }
  }

  #onMessage(message: ConsumeMessage | null): void {
    if (message === null) {
      this.#deps.log.warn('audit writer: consumer cancelled by the broker');
      return;
    }
    this.#buffer.push(message);
    if (this.#buffer.length >= AUDIT_WRITER_PREFETCH / 2) void this.#enqueueFlush();
    else this.#flushTimer ??= setTimeout(() => void this.#enqueueFlush(), AUDIT_WRITER_FLUSH_MS);
  }

  #enqueueFlush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const batch = this.#buffer;
    const channel = this.#channel;
    this.#buffer = [];
    this.#flushing = this.#flushing
      .then(() => this.#flush(batch, channel))
      .catch((error: unknown) => {
        // not acked: the broker redelivers after the reconnect, and eventId dedupe keeps the log exact
        this.#deps.log.error({ err: error }, 'audit writer: append failed; closing the channel to replay from the last stored offset');
        void this.#model?.close().catch(() => undefined);
      });
    return this.#flushing;
  }

  async #flush(batch: readonly ConsumeMessage[], channel: Channel | undefined): Promise<void> {
    const last = batch.at(-1);
    if (last === undefined) return;
    const incoming: IncomingEvent[] = [];
    let invalid = 0;
    for (const message of batch) {
      const parsed = parseAuditEvent(message.content);
      if (!parsed.ok) {
        invalid += 1;
        this.#deps.log.warn({ code: parsed.code, errors: parsed.errors }, 'audit writer: skipped an invalid audit event');
        continue;
      }
      incoming.push({ event: parsed.value as AuditEvent, streamOffset: offsetOf(message) });
    }
    const result = await this.#deps.appender.append(incoming);
    channel?.ack(last, true);
    this.#lastOffset = offsetOf(last) ?? this.#lastOffset;
    this.#deps.metrics.entriesAppended(result.appended);
    this.#deps.metrics.events('appended', result.appended);
    if (result.duplicates > 0) this.#deps.metrics.events('duplicate', result.duplicates);
    if (invalid > 0) this.#deps.metrics.events('invalid', invalid);
    await this.#reportLag(channel);
  }

  async #reportLag(channel: Channel | undefined): Promise<void> {
    if (channel === undefined) return;
    try {
      const { messageCount } = await channel.checkQueue(AUDIT_STREAM);
      this.#deps.metrics.lag(Math.max(0, messageCount - ((this.#lastOffset ?? -1) + 1)));
    } catch (error) {
      this.#deps.log.debug({ err: error }, 'audit writer: could not read the stream length');
    }
  }

  #signIfDue(): void {
    this.#flushing = this.#flushing
      .then(async () => {
        await this.#deps.appender.signIfDue();
      })
      .catch((error: unknown) => this.#deps.log.error({ err: error }, 'audit writer: signing a tree head failed'));
  }
}

function offsetOf(message: ConsumeMessage): number | null {
  const offset = (message.properties.headers as Record<string, unknown> | undefined)?.['x-stream-offset'];
  return typeof offset === 'number' ? offset : null;
}
