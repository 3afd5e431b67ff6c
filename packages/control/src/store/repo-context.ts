// What every repository gets: the Kysely handle (the database or the open transaction), the engine, the clock
// and, inside a transaction, its bookkeeping (configVersion bump, queued change-log entries).

import { DmrError } from '@dmr/shared/base';
import type { Kysely } from 'kysely';
import { findUnstorableText } from '../domain/index.js';
import type { StoreEngine } from './control-store.js';
import type { ChangeInput, IsoTime } from './records.js';
import type { ControlDatabase } from './schema.js';

/** Per-transaction state. */
export class TransactionState {
  /** The value bumpConfigVersion() produced, once it ran. */
  bumpedVersion: number | undefined;
  /** Set by config writes: the transaction must bump before it commits. */
  hasConfigWrite = false;
  /** Change-log entries written at the end of the transaction, in order. */
  readonly pendingChanges: PendingChange[] = [];
}

/** A queued change-log entry, its records already hashed. */
export type PendingChange = Omit<ChangeInput, 'before' | 'after'> & {
  readonly beforeHash: string | null;
  readonly afterHash: string | null;
};

/** The handle and facts a repository works with. */
export interface RepoContext {
  readonly db: Kysely<ControlDatabase>;
  readonly engine: StoreEngine;
  /** The time to stamp writes with: fixed for a whole transaction. */
  now(): IsoTime;
  /** Present inside `transaction(fn)` only. */
  readonly tx: TransactionState | undefined;
}

/**
 * Refuses text a column cannot hold unchanged (NUL, lone surrogates) before anything is written, the same in both
 * engines (PostgreSQL alone would fail only on NUL, and mid-transaction).
 *
 * @throws DmrError `DMR_CONTROL_TEXT_UNSTORABLE` naming the field.
 */
export function assertStorable(what: string, value: unknown): void {
  const path = findUnstorableText(value);
  if (path !== undefined) {
    throw new DmrError('DMR_CONTROL_TEXT_UNSTORABLE', `${what}: field ${path} holds a NUL character or a lone surrogate`);
  }
}

/**
 * Normalises an instant to the stored form (`toISOString`, UTC, milliseconds).
 *
 * @throws DmrError `DMR_INTERNAL_ERROR` for a string that is not a date: callers validate their input first.
 */
export function toIsoTime(value: string | Date, what: string): IsoTime {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) throw new DmrError('DMR_INTERNAL_ERROR', `${what} is not a valid instant`);
  return date.toISOString();
}

/** Reads a bigint column: pg returns int8 as a string, better-sqlite3 as a number. */
export function toNumber(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}
