// The ControlStore over one Kysely instance (either engine): readers on the database, writers on a transaction,
// the end-of-transaction bookkeeping, retries of PostgreSQL deadlocks, and close.

import type { Logger } from '@dmr/shared';
import type { Kysely } from 'kysely';
import { agentReader, agentWriter } from './agents-repo.js';
import { caStateReader, caStateWriter } from './ca-state-repo.js';
import { certificateReader, certificateWriter } from './certificates-repo.js';
import { changeLogReader, changeLogWriter } from './changes-repo.js';
import type { ControlReader, ControlStore, ControlTransaction, StoreEngine, TransactionOptions } from './control-store.js';
import { guarded, isRetriable, toStoreError } from './db-errors.js';
import { crlReader, crlWriter, serviceTokenReader, serviceTokenWriter } from './lifecycle-repos.js';
import { policyReader, policyWriter } from './policies-repo.js';
import { type RepoContext, TransactionState } from './repo-context.js';
import type { ControlDatabase } from './schema.js';
import { serverReader, serverWriter } from './servers-repo.js';
import { tokenReader, tokenWriter } from './tokens-repo.js';
import { bumpConfigVersion, finishTransaction, readConfigVersion } from './tx-bookkeeping.js';

/** Default number of re-runs of a transaction PostgreSQL aborted as a deadlock or serialization failure. */
export const DEFAULT_TRANSACTION_RETRIES = 3;

/** What {@link createKyselyStore} needs besides the database. */
export interface KyselyStoreDeps {
  readonly engine: StoreEngine;
  readonly log: Logger;
  readonly now: () => Date;
}

/** Builds the store over an opened and migrated database. */
export function createKyselyStore(db: Kysely<ControlDatabase>, deps: KyselyStoreDeps): ControlStore {
  const root: RepoContext = { db, engine: deps.engine, now: () => deps.now().toISOString(), tx: undefined };
  let closed: Promise<void> | undefined;
  return {
    engine: deps.engine,
    ...reader(root),
    transaction: (fn, options) => runTransaction(db, deps, fn, options),
    snapshot: (fn) => runSnapshot(db, deps.engine, fn),
    close: () => {
      closed ??= db.destroy().catch((error: unknown) => {
        throw toStoreError(error, 'close');
      });
      return closed;
    },
  };
}

function reader(ctx: RepoContext): ControlReader {
  return {
    agents: guarded(agentReader(ctx), 'agents'),
    certificates: guarded(certificateReader(ctx), 'certificates'),
    caState: guarded(caStateReader(ctx), 'caState'),
    enrollmentTokens: guarded(tokenReader(ctx), 'enrollmentTokens'),
    policies: guarded(policyReader(ctx), 'policies'),
    servers: guarded(serverReader(ctx), 'servers'),
    changes: guarded(changeLogReader(ctx), 'changes'),
    crls: guarded(crlReader(ctx), 'crls'),
    serviceTokens: guarded(serviceTokenReader(ctx), 'serviceTokens'),
    configVersion: guarded({ configVersion: () => readConfigVersion(ctx.db) }, 'store').configVersion,
  };
}

function writer(ctx: RepoContext, now: string): ControlTransaction {
  return {
    agents: guarded(agentWriter(ctx), 'agents'),
    certificates: guarded(certificateWriter(ctx), 'certificates'),
    caState: guarded(caStateWriter(ctx), 'caState'),
    enrollmentTokens: guarded(tokenWriter(ctx), 'enrollmentTokens'),
    policies: guarded(policyWriter(ctx), 'policies'),
    servers: guarded(serverWriter(ctx), 'servers'),
    changes: guarded(changeLogWriter(ctx), 'changes'),
    crls: guarded(crlWriter(ctx), 'crls'),
    serviceTokens: guarded(serviceTokenWriter(ctx), 'serviceTokens'),
    ...guarded({ configVersion: () => readConfigVersion(ctx.db), bumpConfigVersion: () => bumpConfigVersion(ctx) }, 'store'),
    now,
  };
}

async function runTransaction<T>(
  db: Kysely<ControlDatabase>,
  deps: KyselyStoreDeps,
  fn: (tx: ControlTransaction) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? DEFAULT_TRANSACTION_RETRIES;
  for (let attempt = 0; ; attempt++) {
    const run = { isFnFailure: false };
    try {
      return await db.transaction().execute((trx) => attemptTransaction(trx, deps, fn, run));
    } catch (error) {
      if (attempt < retries && isRetriable(error)) {
        deps.log.warn(
          { attempt: attempt + 1, sqlState: sqlStateOf(error) },
          'control store transaction aborted by the database; running it again',
        );
        continue;
      }
      // what fn threw on its own (e.g. to roll back) reaches the caller unchanged
      throw run.isFnFailure ? error : toStoreError(error, 'transaction');
    }
  }
}

async function attemptTransaction<T>(
  trx: Kysely<ControlDatabase>,
  deps: KyselyStoreDeps,
  fn: (tx: ControlTransaction) => Promise<T>,
  run: { isFnFailure: boolean },
): Promise<T> {
  const now = deps.now().toISOString();
  const ctx: RepoContext = { db: trx, engine: deps.engine, now: () => now, tx: new TransactionState() };
  let result: T;
  try {
    result = await fn(writer(ctx, now));
  } catch (error) {
    run.isFnFailure = true;
    throw error;
  }
  await finishTransaction(ctx);
  return result;
}

// A consistent view: PostgreSQL REPEATABLE READ (one snapshot for every query), SQLite a deferred read transaction.
async function runSnapshot<T>(db: Kysely<ControlDatabase>, engine: StoreEngine, fn: (view: ControlReader) => Promise<T>): Promise<T> {
  const run = { isFnFailure: false };
  const builder = engine === 'postgres' ? db.transaction().setIsolationLevel('repeatable read') : db.transaction();
  try {
    return await builder.setAccessMode('read only').execute(async (trx) => {
      try {
        return await fn(reader({ db: trx, engine, now: () => new Date().toISOString(), tx: undefined }));
      } catch (error) {
        run.isFnFailure = true;
        throw error;
      }
    });
  } catch (error) {
    throw run.isFnFailure ? error : toStoreError(error, 'snapshot');
  }
}

function sqlStateOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}
