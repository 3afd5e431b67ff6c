// Appending events to the Merkle log: dedupe by eventId, give each a seq, keep the running root, and sign a head
// every N events (exactly at multiples of N) or T ms. Storage is a port (AuditLogStore); the clock is injected.

import type { AuditEvent } from '@dmr/shared/audit';
import type { AuditAppend, AuditLogStore } from '../store/audit-log-store.js';
import { encodeEntry } from './entry.js';
import { RootAccumulator } from './merkle.js';
import { type SignedTreeHead, signTreeHead, type TreeHeadSigner } from './tree-head.js';

/** When heads are signed: at least every `everyEvents` entries or `everyMs` ms (whichever comes first). */
export interface HeadSchedule {
  readonly everyEvents: number;
  readonly everyMs: number;
}

/** Default of DMR_AUDIT_HEAD_EVERY_EVENTS. */
export const DEFAULT_HEAD_EVERY_EVENTS = 1000;
/** Default of DMR_AUDIT_HEAD_EVERY_MS. */
export const DEFAULT_HEAD_EVERY_MS = 10_000;

/** One event read from the stream (or produced locally, offset null). */
export interface IncomingEvent {
  readonly event: AuditEvent;
  readonly streamOffset: number | null;
}

/** What {@link AuditAppender.append} did. */
export interface AppendResult {
  readonly appended: number;
  readonly duplicates: number;
  /** The last head signed by this append, if any. */
  readonly head?: SignedTreeHead;
}

/** The writer's log: one per process, and only one writer per database (docs/audit.md). */
export class AuditAppender {
  readonly #store: AuditLogStore;
  readonly #signer: TreeHeadSigner;
  readonly #schedule: HeadSchedule;
  readonly #now: () => Date;
  readonly #acc = new RootAccumulator();
  #lastHeadSize = 0;
  #lastHeadAt = 0;

  private constructor(store: AuditLogStore, signer: TreeHeadSigner, schedule: HeadSchedule, now: () => Date) {
    this.#store = store;
    this.#signer = signer;
    this.#schedule = schedule;
    this.#now = now;
  }

  /** Loads the running root from the stored leaves (O(log n) memory) and the last head. */
  static async open(
    store: AuditLogStore,
    signer: TreeHeadSigner,
    schedule: HeadSchedule,
    now: () => Date = () => new Date(),
  ): Promise<AuditAppender> {
    const appender = new AuditAppender(store, signer, schedule, now);
    for await (const row of store.entries()) appender.#acc.push(row.leafHash);
    const last = (await store.heads()).at(-1);
    appender.#lastHeadSize = last?.size ?? 0;
    appender.#lastHeadAt = last === undefined ? now().getTime() : Date.parse(last.signedAt);
    return appender;
  }

  /** Entries in the log. */
  get size(): number {
    return this.#acc.size;
  }

  /** Size of the last signed head. */
  get signedSize(): number {
    return this.#lastHeadSize;
  }

  /** Appends the events not yet in the log (by eventId), then signs a head when one is due; one transaction. */
  async append(incoming: readonly IncomingEvent[]): Promise<AppendResult> {
    const known = await this.#store.knownEventIds(incoming.map((i) => i.event.eventId));
    const items: AuditAppend[] = [];
    const acc = this.#acc;
    for (const { event, streamOffset } of incoming) {
      if (known.has(event.eventId)) continue;
      known.add(event.eventId);
      const entry = encodeEntry(acc.size + items.length + 1, event);
      items.push({ entry, streamOffset });
    }
    const pending = acc.clone();
    const heads: SignedTreeHead[] = [];
    let lastSigned = this.#lastHeadSize;
    for (const item of items) {
      pending.push(item.entry.leafHash);
      if (pending.size - lastSigned >= this.#schedule.everyEvents) {
        heads.push(this.#sign(pending.size, pending.root()));
        lastSigned = pending.size;
      }
    }
    if (pending.size > lastSigned && this.#now().getTime() - this.#lastHeadAt >= this.#schedule.everyMs) {
      heads.push(this.#sign(pending.size, pending.root()));
    }
    await this.#store.append(items, heads);
    for (const item of items) acc.push(item.entry.leafHash);
    const head = heads.at(-1);
    if (head !== undefined) this.#noteHead(head);
    const duplicates = incoming.length - items.length;
    return head === undefined ? { appended: items.length, duplicates } : { appended: items.length, duplicates, head };
  }

  /** Signs a head now if entries are unsigned and T has passed (the timer's tick); returns it. */
  async signIfDue(force = false): Promise<SignedTreeHead | undefined> {
    if (this.#acc.size === this.#lastHeadSize) return undefined;
    if (!force && this.#now().getTime() - this.#lastHeadAt < this.#schedule.everyMs) return undefined;
    const head = this.#sign(this.#acc.size, this.#acc.root());
    await this.#store.append([], [head]);
    this.#noteHead(head);
    return head;
  }

  #sign(size: number, root: Buffer): SignedTreeHead {
    return signTreeHead(this.#signer, size, root, this.#now().toISOString());
  }

  #noteHead(head: SignedTreeHead): void {
    this.#lastHeadSize = head.size;
    this.#lastHeadAt = Date.parse(head.signedAt);
  }
}
