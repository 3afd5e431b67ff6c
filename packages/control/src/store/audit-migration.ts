// Migration 003 (audit log): `audit_entries` and `audit_tree_heads`, both append-only in the database itself (the
// triggers refuse UPDATE, DELETE and, in PostgreSQL, TRUNCATE). An attacker with DB access can drop the triggers:
// that is what the signed heads and `dmrctl audit verify` are for.

import { type Kysely, sql } from 'kysely';
import type { StoreEngine } from './control-store.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was, not as it is typed now
type MigrationDb = Kysely<any>;

/** Creates the audit tables and their append-only triggers. */
export async function createAuditTables(db: MigrationDb, engine: StoreEngine): Promise<void> {
  const key = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  await db.schema
    .createTable('audit_entries')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('event_id', key, (c) => c.notNull().unique())
    .addColumn('leaf_hash', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('stream_offset', 'bigint')
    .addColumn('written_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('audit_tree_heads')
    .addColumn('size', 'bigint', (c) => c.primaryKey())
    .addColumn('root_hash', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('certificate', 'text', (c) => c.notNull())
    .execute();
  for (const table of ['audit_entries', 'audit_tree_heads']) {
    await (engine === 'postgres' ? appendOnlyPostgres(db, table) : appendOnlySqlite(db, table));
  }
}

async function appendOnlySqlite(db: MigrationDb, table: string): Promise<void> {
  const message = sql.lit(`${table} is append-only`);
  await sql`create trigger ${sql.raw(`${table}_no_update`)} before update on ${sql.table(table)}
      begin select raise(abort, ${message}); end`.execute(db);
  await sql`create trigger ${sql.raw(`${table}_no_delete`)} before delete on ${sql.table(table)}
      begin select raise(abort, ${message}); end`.execute(db);
}

async function appendOnlyPostgres(db: MigrationDb, table: string): Promise<void> {
  const fn = sql.raw(`dmr_${table}_append_only`);
  await sql`create function ${fn}() returns trigger language plpgsql as ${sql.lit(`begin raise exception '${table} is append-only'; end`)}`.execute(
    db,
  );
  await sql`create trigger ${sql.raw(`${table}_no_edit`)} before update or delete on ${sql.table(table)}
      for each row execute function ${fn}()`.execute(db);
  await sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
      for each statement execute function ${fn}()`.execute(db);
}
