// The configVersion counter and the change log's end-of-transaction write: the rules that make "every committed
// config change bumps exactly once, and the log says so" hold.

import { DmrError } from '@dmr/shared/base';
import type { Kysely } from 'kysely';
import { canonicalSha256 } from '../domain/index.js';
import type { ChangeInput } from './records.js';
import { assertStorable, type PendingChange, type RepoContext, type TransactionState, toNumber } from './repo-context.js';
import type { ControlDatabase } from './schema.js';

const CONFIG_VERSION = 'config_version';
// Rows per INSERT: 12 columns × 400 stays under SQLite's 32 766 and PostgreSQL's 65 535 bound parameters.
const CHANGE_BATCH = 400;

/** Notes that the transaction changed config: it will bump before it commits. */
export function markConfigWrite(ctx: RepoContext): void {
  txState(ctx).hasConfigWrite = true;
}

/** The current configVersion as `db` sees it. */
export async function readConfigVersion(db: Kysely<ControlDatabase>): Promise<number> {
  const row = await db.selectFrom('counters').select('value').where('name', '=', CONFIG_VERSION).executeTakeFirstOrThrow();
  return toNumber(row.value);
}

/**
 * Bumps the configVersion once per transaction. The UPDATE takes the counter's row lock until commit, so on
 * PostgreSQL concurrent transactions bump one after the other and never see the same value.
 */
export async function bumpConfigVersion(ctx: RepoContext): Promise<number> {
  const state = txState(ctx);
  if (state.bumpedVersion !== undefined) return state.bumpedVersion;
  const row = await ctx.db
    .updateTable('counters')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', CONFIG_VERSION)
    .returning('value')
    .executeTakeFirstOrThrow();
  state.bumpedVersion = toNumber(row.value);
  return state.bumpedVersion;
}

/** Bumps and increments another named counter (policy versions), under its row lock. */
export async function nextCounterValue(db: Kysely<ControlDatabase>, name: string): Promise<number> {
  const row = await db
    .updateTable('counters')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', name)
    .returning('value')
    .executeTakeFirstOrThrow();
  return toNumber(row.value);
}

/**
 * Ends a transaction's bookkeeping before commit: bumps when a config write happened without an explicit bump,
 * then writes the queued change-log entries with the final configVersion. On PostgreSQL the entries are written
 * while holding the counter's row lock, so seq order is commit order (an auditor paging by seq misses nothing).
 */
export async function finishTransaction(ctx: RepoContext): Promise<void> {
  const state = txState(ctx);
  if (state.hasConfigWrite) await bumpConfigVersion(ctx);
  if (state.pendingChanges.length === 0) return;
  const version = state.bumpedVersion ?? (await lockConfigVersion(ctx));
  const at = ctx.now();
  const rows = state.pendingChanges.map((entry) => changeRow(entry, at, version));
  for (let start = 0; start < rows.length; start += CHANGE_BATCH) {
    await ctx.db
      .insertInto('change_log')
      .values(rows.slice(start, start + CHANGE_BATCH))
      .execute();
  }
}

/** Queues a change-log entry, validated and hashed now so that a bad one fails where it was made. */
export function queueChange(ctx: RepoContext, entry: ChangeInput): void {
  const { before, after, ...rest } = entry;
  assertStorable('change', rest);
  txState(ctx).pendingChanges.push({ ...rest, beforeHash: canonicalSha256(before), afterHash: canonicalSha256(after) });
}

async function lockConfigVersion(ctx: RepoContext): Promise<number> {
  if (ctx.engine === 'sqlite') return readConfigVersion(ctx.db);
  const row = await ctx.db.selectFrom('counters').select('value').where('name', '=', CONFIG_VERSION).forUpdate().executeTakeFirstOrThrow();
  return toNumber(row.value);
}

function changeRow(entry: PendingChange, at: string, configVersion: number) {
  return {
    at,
    actor_subject: entry.actor.subject,
    actor_role: entry.actor.role,
    action: entry.action,
    subject_kind: entry.subjectKind,
    subject_id: entry.subjectId,
    before_hash: entry.beforeHash,
    after_hash: entry.afterHash,
    config_version: configVersion,
    outcome: entry.outcome,
    code: entry.code ?? null,
  };
}

function txState(ctx: RepoContext): TransactionState {
  if (ctx.tx === undefined) throw new DmrError('DMR_INTERNAL_ERROR', 'a store write ran outside transaction()');
  return ctx.tx;
}
