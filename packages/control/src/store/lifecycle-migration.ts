// Migration 002 (control/certs): the signed CRLs and the enrollment tokens of server instances and the relay user.

import { type Kysely, sql } from 'kysely';
import type { StoreEngine } from './control-store.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was, not as it is typed now
type MigrationDb = Kysely<any>;

/** Creates `crls` and `service_enrollment_tokens`. */
export async function createLifecycleTables(db: MigrationDb, engine: StoreEngine): Promise<void> {
  const key = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  await db.schema
    .createTable('crls')
    .addColumn('ca_id', key, (c) => c.notNull())
    .addColumn('crl_number', 'bigint', (c) => c.notNull())
    .addColumn('this_update', 'text', (c) => c.notNull())
    .addColumn('next_update', 'text', (c) => c.notNull())
    .addColumn('pem', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('crls_pk', ['ca_id', 'crl_number'])
    .execute();
  await db.schema
    .createTable('service_enrollment_tokens')
    .addColumn('token_hash', key, (c) => c.primaryKey())
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', key, (c) => c.notNull())
    .addColumn('dns_names', 'text', (c) => c.notNull())
    .addColumn('ip_addresses', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
}
