// The one migration history of both engines, in code (no migration files to ship). A migration is never edited
// once released: add the next one. Column types differ only where the engines do (identity column, the "C"
// collation that makes PostgreSQL order text keys by code point, as SQLite does).

import { type Kysely, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { createAuditTables } from './audit-migration.js';
import type { StoreEngine } from './control-store.js';
import { createLifecycleTables } from './lifecycle-migration.js';

/** The names of the tables Kysely's Migrator keeps its history and lock in. */
export const MIGRATION_TABLE = 'dmr_control_migrations';
/** See {@link MIGRATION_TABLE}. */
export const MIGRATION_LOCK_TABLE = 'dmr_control_migrations_lock';

/** The migrations of `engine`, oldest first by name. */
export function controlMigrations(engine: StoreEngine): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '2026-12-07-001-initial': { up: (db) => createInitialSchema(db, engine) },
    '2026-12-07-002-certificate-lifecycle': { up: (db) => createLifecycleTables(db, engine) },
    '2026-12-07-003-audit-log': { up: (db) => createAuditTables(db, engine) },
  };
  return { getMigrations: async () => migrations };
}

// Kysely<any> is what Kysely hands migrations: they run before ControlDatabase describes the tables.
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was, not as it is typed now
type MigrationDb = Kysely<any>;

async function createInitialSchema(db: MigrationDb, engine: StoreEngine): Promise<void> {
  const key = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  await db.schema
    .createTable('counters')
    .addColumn('name', key, (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
  await db
    .insertInto('counters')
    .values([
      { name: 'config_version', value: 0 },
      { name: 'policy_version', value: 0 },
    ])
    .execute();
  await createAgentTables(db, key);
  await createCertificateTables(db, key);
  await createOtherTables(db, key);
  await createChangeLog(db, engine, key);
}

async function createAgentTables(db: MigrationDb, key: ReturnType<typeof sql>): Promise<void> {
  await db.schema
    .createTable('agents')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('institution', 'text', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('authentication_certificate', 'text')
    .addColumn('capabilities', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('agents_name').on('agents').column('name').execute();
  await db.schema
    .createTable('agent_groups')
    .addColumn('agent_id', key, (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('group_name', key, (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_groups_pk', ['agent_id', 'group_name'])
    .execute();
  await db.schema.createIndex('agent_groups_group').on('agent_groups').column('group_name').execute();
  await db.schema
    .createTable('agent_labels')
    .addColumn('agent_id', key, (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('label_key', key, (c) => c.notNull())
    .addColumn('label_value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_labels_pk', ['agent_id', 'label_key'])
    .execute();
  await db.schema.createIndex('agent_labels_pair').on('agent_labels').columns(['label_key', 'label_value']).execute();
}

async function createCertificateTables(db: MigrationDb, key: ReturnType<typeof sql>): Promise<void> {
  await db.schema
    .createTable('certificates')
    .addColumn('serial', key, (c) => c.primaryKey())
    .addColumn('ca_id', key, (c) => c.notNull())
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', key, (c) => c.notNull())
    .addColumn('not_before', 'text', (c) => c.notNull())
    .addColumn('not_after', 'text', (c) => c.notNull())
    .addColumn('pem', 'text', (c) => c.notNull())
    .addColumn('public_key_sha256', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('revocation_reason', 'text')
    .execute();
  await db.schema.createIndex('certificates_subject').on('certificates').columns(['subject_kind', 'subject_id']).execute();
  await db.schema.createIndex('certificates_ca').on('certificates').columns(['ca_id', 'revoked_at']).execute();
  await db.schema.createIndex('certificates_not_after').on('certificates').column('not_after').execute();
  await db.schema
    .createTable('ca_state')
    .addColumn('ca_id', key, (c) => c.primaryKey())
    .addColumn('last_serial', 'bigint', (c) => c.notNull())
    .addColumn('last_crl_number', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

async function createOtherTables(db: MigrationDb, key: ReturnType<typeof sql>): Promise<void> {
  await db.schema
    .createTable('enrollment_tokens')
    .addColumn('token_hash', key, (c) => c.primaryKey())
    .addColumn('agent_id', key, (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('enrollment_tokens_agent').on('enrollment_tokens').column('agent_id').execute();
  await db.schema
    .createTable('policies')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('servers')
    .addColumn('instance_id', key, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'text', (c) => c.notNull())
    .addColumn('last_sync_at', 'text', (c) => c.notNull())
    .addColumn('config_version', 'bigint', (c) => c.notNull())
    .addColumn('crl_numbers', 'text', (c) => c.notNull())
    .addColumn('software_version', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .execute();
}

async function createChangeLog(db: MigrationDb, engine: StoreEngine, key: ReturnType<typeof sql>): Promise<void> {
  await db.schema
    .createTable('change_log')
    .addColumn('seq', engine === 'postgres' ? 'bigint' : 'integer', (c) =>
      engine === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_subject', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject_kind', key, (c) => c.notNull())
    .addColumn('subject_id', key)
    .addColumn('before_hash', 'text')
    .addColumn('after_hash', 'text')
    .addColumn('config_version', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .execute();
  await db.schema.createIndex('change_log_subject').on('change_log').columns(['subject_kind', 'subject_id']).execute();
  await (engine === 'postgres' ? refuseChangeLogEditsPostgres(db) : refuseChangeLogEditsSqlite(db));
}

// Append-only in the database itself, not only in the API: a bug or a hand-written UPDATE cannot rewrite history.
async function refuseChangeLogEditsSqlite(db: MigrationDb): Promise<void> {
  await sql`create trigger change_log_no_update before update on change_log
      begin select raise(abort, 'change_log is append-only'); end`.execute(db);
  await sql`create trigger change_log_no_delete before delete on change_log
      begin select raise(abort, 'change_log is append-only'); end`.execute(db);
}

async function refuseChangeLogEditsPostgres(db: MigrationDb): Promise<void> {
  await sql`create function dmr_change_log_append_only() returns trigger language plpgsql as $$
      begin raise exception 'change_log is append-only'; end $$`.execute(db);
  await sql`create trigger change_log_no_edit before update or delete on change_log
      for each row execute function dmr_change_log_append_only()`.execute(db);
  await sql`create trigger change_log_no_truncate before truncate on change_log
      for each statement execute function dmr_change_log_append_only()`.execute(db);
}
