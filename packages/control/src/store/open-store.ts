// openControlStore: parses the URL, opens the engine, applies pending migrations, builds the store.

import { DmrError } from '@dmr/shared/base';
import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { ControlStore, StoreEngine } from './control-store.js';
import { toStoreError } from './db-errors.js';
import { createKyselyStore } from './kysely-store.js';
import { controlMigrations, MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from './migrations.js';
import type { OpenControlStoreOptions } from './open-options.js';
import { assertUtf8, openPostgres } from './postgres-engine.js';
import type { ControlDatabase } from './schema.js';
import { openSqlite } from './sqlite-engine.js';
import { parseStoreUrl, redactStoreUrl, type StoreLocation } from './store-url.js';

/**
 * Opens the store at `url` (`sqlite:<path>` or `postgres://…`, see store-url.ts), applies pending migrations
 * (several instances starting at once on one PostgreSQL database take turns: Kysely's migration lock) and returns
 * it. Close it with `close()`.
 *
 * @throws DmrError `DMR_CONFIG_INVALID` for a URL of another form; `DMR_CONTROL_STORE_FAILED` when the database
 * cannot be opened, is not UTF-8 (PostgreSQL), or cannot be migrated (including one migrated by a newer release).
 */
export async function openControlStore(url: string, options: OpenControlStoreOptions): Promise<ControlStore> {
  const { db, engine, log } = await openMigratedDatabase(url, options);
  return createKyselyStore(db, { engine, log, now: options.now ?? (() => new Date()) });
}

/** The opened and migrated database behind {@link openControlStore} (and the audit log's store). */
export interface MigratedDatabase {
  readonly db: Kysely<ControlDatabase>;
  readonly engine: StoreEngine;
  readonly log: OpenControlStoreOptions['log'];
}

/** Opens the database at `url` and applies pending migrations; throws as {@link openControlStore}. */
export async function openMigratedDatabase(url: string, options: OpenControlStoreOptions): Promise<MigratedDatabase> {
  const parsed = parseStoreUrl(url);
  if (!parsed.ok) throw new DmrError('DMR_CONFIG_INVALID', parsed.problem);
  const log = options.log.child({ component: 'control-store' });
  const where = redactStoreUrl(url);
  const db = openEngine(parsed.location, log, where);
  try {
    if (parsed.location.engine === 'postgres') await assertUtf8(db);
    await migrate(db, parsed.location.engine, log);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw toStoreError(error, `opening ${where}`);
  }
  log.info({ engine: parsed.location.engine, url: where }, 'control store open');
  return { db, engine: parsed.location.engine, log };
}

function openEngine(location: StoreLocation, log: OpenControlStoreOptions['log'], where: string): Kysely<ControlDatabase> {
  try {
    if (location.engine === 'sqlite') return openSqlite(location.path);
    return openPostgres(location.connectionString, (error) => log.warn({ err: error }, 'idle PostgreSQL connection failed'));
  } catch (error) {
    throw toStoreError(error, `opening ${where}`);
  }
}

async function migrate(db: Kysely<ControlDatabase>, engine: StoreEngine, log: OpenControlStoreOptions['log']): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: controlMigrations(engine),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  for (const result of results ?? []) {
    log.info({ migration: result.migrationName, status: result.status }, 'control store migration');
  }
  if (error !== undefined) throw toStoreError(error, 'migrating the control store');
}
