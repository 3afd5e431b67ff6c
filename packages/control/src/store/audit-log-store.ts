// The audit log's storage: appending entries and signed heads, reading them back in order. Its own small port, not
// part of ControlStore: the writer appends in batches outside the config transactions, and `dmrctl audit` reads it
// offline with nothing else of the control plane.

import { sql } from 'kysely';
import type { AuditEntry } from '../audit/entry.js';
import type { SignedTreeHead } from '../audit/tree-head.js';
import type { StoredEntryRow } from '../audit/verify-log.js';
import type { AuditTreeHeadTable } from './audit-schema.js';
import type { StoreEngine } from './control-store.js';
import { toStoreError } from './db-errors.js';
import type { OpenControlStoreOptions } from './open-options.js';
import { type MigratedDatabase, openMigratedDatabase } from './open-store.js';

/** Rows read per query when streaming entries. */
export const AUDIT_READ_BATCH = 5000;

/** The last entry written and the stream offset it was read at. */
export interface AuditPosition {
  readonly seq: number;
  readonly streamOffset: number | null;
}

/** An entry to append, with the stream offset it came from. */
export interface AuditAppend {
  readonly entry: AuditEntry;
  readonly streamOffset: number | null;
}

/** The audit log's store. */
export interface AuditLogStore {
  readonly engine: StoreEngine;
  /** The last entry, or undefined for an empty log. */
  position(): Promise<AuditPosition | undefined>;
  /** The highest stream offset stored, or undefined. */
  lastStreamOffset(): Promise<number | undefined>;
  /** The highest change-log seq published as `change-log-<seq>` that the log holds, or undefined. */
  lastChangeLogSeq(): Promise<number | undefined>;
  /** Which of `eventIds` are already in the log. */
  knownEventIds(eventIds: readonly string[]): Promise<Set<string>>;
  /** Appends entries (seq order, contiguous) and the heads signed over them, in one transaction. */
  append(entries: readonly AuditAppend[], heads?: readonly SignedTreeHead[]): Promise<void>;
  /** Every signed head, smallest first. */
  heads(): Promise<SignedTreeHead[]>;
  /** Streams entries from seq `from` (default 1) to `to` (inclusive, default the end), in seq order. */
  entries(from?: number, to?: number): AsyncIterable<StoredEntryRow>;
  /** The entry with `eventId`, or undefined. */
  entryByEventId(eventId: string): Promise<StoredEntryRow | undefined>;
  /** The stored leaf hashes of seq 1..size. */
  leafHashes(size: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

/** Opens (and migrates) the database at `url` for the audit log. Throws as openControlStore. */
export async function openAuditLogStore(url: string, options: OpenControlStoreOptions): Promise<AuditLogStore> {
  return createAuditLogStore(await openMigratedDatabase(url, options), options.now ?? (() => new Date()));
}

function createAuditLogStore({ db, engine }: MigratedDatabase, now: () => Date): AuditLogStore {
  let closed: Promise<void> | undefined;
  const entries = async function* (from = 1, to = Number.MAX_SAFE_INTEGER): AsyncIterable<StoredEntryRow> {
    for (let next = from; next <= to; ) {
      const rows = await db
        .selectFrom('audit_entries')
        .select(['seq', 'event_id', 'leaf_hash', 'body'])
        .where('seq', '>=', next)
        .where('seq', '<=', to)
        .orderBy('seq')
        .limit(AUDIT_READ_BATCH)
        .execute();
      for (const row of rows) yield toEntryRow(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < AUDIT_READ_BATCH) return;
      next = Number(last.seq) + 1;
    }
  };
  return {
    engine,
    position: async () => {
      const row = await db.selectFrom('audit_entries').select(['seq', 'stream_offset']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      return row === undefined
        ? undefined
        : { seq: Number(row.seq), streamOffset: row.stream_offset === null ? null : Number(row.stream_offset) };
    },
    lastStreamOffset: async () => {
      const row = await db
        .selectFrom('audit_entries')
        .select(sql<string | number | null>`max(stream_offset)`.as('offset'))
        .executeTakeFirst();
      return row?.offset === null || row?.offset === undefined ? undefined : Number(row.offset);
    },
    lastChangeLogSeq: async () => {
      const row = await db
        .selectFrom('audit_entries')
        .select('event_id')
        .where('event_id', 'like', 'change-log-%')
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : Number(row.event_id.slice('change-log-'.length));
    },
    knownEventIds: async (eventIds) => {
      if (eventIds.length === 0) return new Set();
      const rows = await db
        .selectFrom('audit_entries')
        .select('event_id')
        .where('event_id', 'in', [...eventIds])
        .execute();
      return new Set(rows.map((r) => r.event_id));
    },
    append: (items, heads = []) => appendRows(db, items, heads, now().toISOString()),
    heads: async () => {
      const rows = await db.selectFrom('audit_tree_heads').selectAll().orderBy('size').execute();
      return rows.map(toHead);
    },
    entries,
    entryByEventId: async (eventId) => {
      const row = await db
        .selectFrom('audit_entries')
        .select(['seq', 'event_id', 'leaf_hash', 'body'])
        .where('event_id', '=', eventId)
        .executeTakeFirst();
      return row === undefined ? undefined : toEntryRow(row);
    },
    leafHashes: async (size) => {
      const leaves: Buffer[] = [];
      for await (const row of entries(1, size)) leaves.push(row.leafHash);
      return leaves;
    },
    close: () => {
      closed ??= db.destroy().catch((error: unknown) => {
        throw toStoreError(error, 'close');
      });
      return closed;
    },
  };
}

type Db = MigratedDatabase['db'];

async function appendRows(db: Db, items: readonly AuditAppend[], heads: readonly SignedTreeHead[], writtenAt: string): Promise<void> {
  try {
    await db.transaction().execute(async (trx) => {
      // SQLite caps bound parameters per statement; 6 columns × 500 rows stays far below it
      for (let i = 0; i < items.length; i += 500) {
        const values = items.slice(i, i + 500).map(({ entry, streamOffset }) => ({
          seq: entry.seq,
          event_id: entry.eventId,
          leaf_hash: entry.leafHash.toString('hex'),
          body: entry.body,
          stream_offset: streamOffset,
          written_at: writtenAt,
        }));
        if (values.length > 0) await trx.insertInto('audit_entries').values(values).execute();
      }
      if (heads.length > 0) await trx.insertInto('audit_tree_heads').values(heads.map(headRow)).execute();
    });
  } catch (error) {
    throw toStoreError(error, 'appending to the audit log');
  }
}

function headRow(head: SignedTreeHead): AuditTreeHeadTable {
  return {
    size: head.size,
    root_hash: head.rootHash.toString('hex'),
    signed_at: head.signedAt,
    signature: head.signature.toString('base64'),
    key_id: head.keyId,
    certificate: head.certificatePem,
  };
}

function toHead(row: AuditTreeHeadTable): SignedTreeHead {
  return {
    size: Number(row.size),
    rootHash: Buffer.from(row.root_hash, 'hex'),
    signedAt: row.signed_at,
    signature: Buffer.from(row.signature, 'base64'),
    keyId: row.key_id,
    certificatePem: row.certificate,
  };
}

function toEntryRow(row: { seq: number | string; event_id: string; leaf_hash: string; body: string }): StoredEntryRow {
  return { seq: Number(row.seq), eventId: row.event_id, leafHash: Buffer.from(row.leaf_hash, 'hex'), body: row.body };
}
