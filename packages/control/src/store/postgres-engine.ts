// PostgreSQL over pg: a small pool; transactions run READ COMMITTED, and every counter is bumped by a single
// UPDATE/UPSERT that holds its row lock until commit (see tx-bookkeeping.ts), so two control instances on one
// database never hand out the same configVersion, policy version or CA number.

import { DmrError } from '@dmr/shared/base';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { ControlDatabase } from './schema.js';

/** Connections per control instance: admin traffic is light, and PostgreSQL's default allows 100 in all. */
export const POSTGRES_POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;

/** Opens a pool on `connectionString`; idle-client errors (a restarted server) are logged, not thrown. */
export function openPostgres(connectionString: string, onIdleError: (error: Error) => void): Kysely<ControlDatabase> {
  const pool = new pg.Pool({ connectionString, max: POSTGRES_POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on('error', onIdleError);
  return new Kysely<ControlDatabase>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Refuses a database whose encoding is not UTF-8: text would not round-trip (a LATIN1 database cannot hold an
 * emoji). Also the first query, so an unreachable server fails here.
 *
 * @throws DmrError `DMR_CONTROL_STORE_FAILED`.
 */
export async function assertUtf8(db: Kysely<ControlDatabase>): Promise<void> {
  const { rows } = await sql<{ server_encoding: string }>`show server_encoding`.execute(db);
  const encoding = rows[0]?.server_encoding;
  if (encoding !== 'UTF8') {
    throw new DmrError(
      'DMR_CONTROL_STORE_FAILED',
      `the PostgreSQL database has encoding ${encoding ?? '(unknown)'}; dmr-control needs UTF8`,
    );
  }
}
