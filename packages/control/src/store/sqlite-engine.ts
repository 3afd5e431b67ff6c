// SQLite over better-sqlite3: one file, WAL, foreign keys on, a busy timeout, and write transactions that take
// the write lock at BEGIN (IMMEDIATE) so that two writers never deadlock on a read-to-write lock upgrade.

import Database from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  type TransactionSettings,
} from 'kysely';
import type { ControlDatabase } from './schema.js';

/** How long a connection waits for another process's write lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

class ImmediateSqliteDriver extends SqliteDriver {
  // Kysely passes the settings although SqliteDriver's declared signature leaves them out.
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin' : 'begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/**
 * Opens (creating it when missing) the SQLite database at `path` with the store's pragmas. Synchronous I/O:
 * better-sqlite3 runs queries on the calling thread, which suits one control instance with small transactions.
 */
export function openSqlite(path: string): Kysely<ControlDatabase> {
  const database = new Database(path);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  } catch (error) {
    database.close();
    throw error;
  }
  return new Kysely<ControlDatabase>({ dialect: new ImmediateSqliteDialect({ database }) });
}
