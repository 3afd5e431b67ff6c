// Test audit logs: an in-memory CA, the writer's signing identity, a forger's, a filled log, and raw SQL for the
// attacker with database access (engine-specific, apart from the store on purpose).

import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@dmr/shared/audit';
import Database from 'better-sqlite3';
import pg from 'pg';
import { AuditAppender, type TreeHeadSigner } from '../../src/audit/index.js';
import { type CaSigner, createRoot, issueAuditSigner, privateKeyPem, signingKeyFromPem, validityFor } from '../../src/ca/index.js';
import { type AuditLogStore, openAuditLogStore } from '../../src/store/index.js';
import { capturingLogger } from './store-fixtures.js';

/** A CA in memory: its signer and its certificate as PEM. */
export interface MemoryCa {
  readonly signer: CaSigner;
  readonly pem: string;
}

/** A new self-signed CA named `name`. */
export async function memoryCa(name: string): Promise<MemoryCa> {
  const { keys, certificate } = await createRoot(name, 'ec-p256', validityFor(30, new Date()));
  return { signer: { certificate, signingKey: await signingKeyFromPem(privateKeyPem(keys.privateKey)) }, pem: certificate.toString('pem') };
}

/** An audit signer issued by `ca`. */
export function auditSigner(ca: MemoryCa, instance = 'test'): Promise<TreeHeadSigner> {
  return issueAuditSigner(ca.signer, instance);
}

/** A metadata-only event as dmr-control publishes them. */
export function auditEvent(i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    v: 1,
    eventId: randomUUID(),
    at: new Date(Date.UTC(2026, 11, 7, 12, 0, 0, i)).toISOString(),
    kind: 'config.changed',
    actor: 'admin:alice',
    subject: `agent:agent-${i}`,
    outcome: 'ok',
    configVersion: i,
    ...overrides,
  };
}

/** Opens the audit store at `url` with a quiet logger. */
export function openAudit(url: string): Promise<AuditLogStore> {
  return openAuditLogStore(url, { log: capturingLogger().log });
}

/** Appends `count` events in batches of `batch`, a head every `everyEvents`, and a final head; returns the events. */
export async function fillLog(
  store: AuditLogStore,
  signer: TreeHeadSigner,
  count: number,
  everyEvents: number,
  batch = 7,
): Promise<AuditEvent[]> {
  const appender = await AuditAppender.open(store, signer, { everyEvents, everyMs: 3_600_000 });
  const events = Array.from({ length: count }, (_, i) => auditEvent(i + 1));
  for (let i = 0; i < count; i += batch) {
    await appender.append(events.slice(i, i + batch).map((event, j) => ({ event, streamOffset: i + j })));
  }
  await appender.signIfDue(true);
  return events;
}

/** Runs SQL on the database behind `url` as an attacker with direct access would. */
export async function rawSql(url: string, statements: readonly string[]): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length));
    try {
      for (const statement of statements) db.exec(statement);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The statements that drop the append-only triggers of `table` on the engine of `url`. */
export function dropAppendOnly(url: string, table: 'audit_entries' | 'audit_tree_heads'): string[] {
  return url.startsWith('sqlite:')
    ? [`drop trigger ${table}_no_update`, `drop trigger ${table}_no_delete`]
    : [`drop trigger ${table}_no_edit on ${table}`];
}

/** Every item of an async iterable, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
