// Publishes dmr-control's change log to dmr.audit with publisher confirms: polls the rows after the last one the
// audit log already holds, one confirm channel, a row's cursor advances only once the broker confirmed it.

import type { Logger } from '@dmr/shared';
import { assertAuditStream, publishAuditEvent } from '@dmr/shared/audit';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { encodeCursor } from '../domain/list-cursor.js';
import type { AuditLogStore, ControlStore } from '../store/index.js';
import { CHANGE_LOG_EVENT_PREFIX, changeToAuditEvent } from './change-log-events.js';

/** How often the change log is polled, ms. */
export const CHANGE_LOG_POLL_MS = 1000;

/** Dependencies of {@link ChangeLogAuditPublisher}. */
export interface ChangeLogPublisherDeps {
  readonly store: ControlStore;
  readonly auditStore: AuditLogStore;
  readonly connect: () => Promise<ChannelModel>;
  readonly log: Logger;
}

/** Polls the change log and publishes each new row as an audit event. `start()`/`stop()` idempotent. */
export class ChangeLogAuditPublisher {
  readonly #deps: ChangeLogPublisherDeps;
  #after: number | undefined;
  #model: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #isStopped = false;

  constructor(deps: ChangeLogPublisherDeps) {
    this.#deps = deps;
  }

  /** Starts polling; the first poll runs at once. */
  start(): void {
    if (this.#timer !== undefined || this.#isStopped) return;
    this.#timer = setInterval(() => this.#tick(), CHANGE_LOG_POLL_MS);
    this.#tick();
  }

  /** Waits for the poll in flight and closes the connection. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    clearInterval(this.#timer);
    await this.#running;
    await this.#model?.close().catch(() => undefined);
    this.#model = undefined;
  }

  /** One poll now (tests and the timer). */
  publishPending(): Promise<void> {
    this.#tick();
    return this.#running;
  }

  #tick(): void {
    this.#running = this.#running
      .then(() => this.#poll())
      .catch((error: unknown) => {
        this.#deps.log.warn({ err: error }, 'audit: publishing the change log failed; retried on the next poll');
        void this.#model?.close().catch(() => undefined);
        this.#model = undefined;
        this.#channel = undefined;
      });
  }

  async #poll(): Promise<void> {
    if (this.#isStopped) return;
    this.#after ??= await this.#deps.auditStore.lastChangeLogSeq();
    for (;;) {
      const cursor = this.#after === undefined ? undefined : encodeCursor('changes', this.#after);
      const page = await this.#deps.store.changes.list({ limit: 200, ...(cursor === undefined ? {} : { cursor }) });
      if (!page.ok || page.value.items.length === 0) return;
      const channel = await this.#confirmChannel();
      await Promise.all(page.value.items.map((change) => publishAuditEvent(channel, changeToAuditEvent(change))));
      this.#after = page.value.items.at(-1)?.seq ?? this.#after;
      if (page.value.nextCursor === null) return;
    }
  }

  async #confirmChannel(): Promise<ConfirmChannel> {
    if (this.#channel !== undefined) return this.#channel;
    const model = await this.#deps.connect();
    model.on('error', (error: unknown) => this.#deps.log.warn({ err: error }, 'audit publisher: broker connection error'));
    model.on('close', () => {
      this.#channel = undefined;
      this.#model = undefined;
    });
    const channel = await model.createConfirmChannel();
    await assertAuditStream(channel);
    this.#model = model;
    this.#channel = channel;
    return channel;
  }
}

export { CHANGE_LOG_EVENT_PREFIX };
