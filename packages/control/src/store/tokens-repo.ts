// One-time enrollment tokens, kept as SHA-256 hashes; consumed by one conditional UPDATE.

import type { Selectable } from 'kysely';
import type { EnrollmentTokenReader, EnrollmentTokenWriter } from './control-store.js';
import { cutRows, invalidCursor, pageOf, pageWindow } from './paging.js';
import type { AlreadyExists, EnrollmentTokenQuery, NotFound, Outcome, PageOutcome, TokenRefusal } from './queries.js';
import type { EnrollmentTokenInput, EnrollmentTokenRecord } from './records.js';
import { assertStorable, type RepoContext, toIsoTime } from './repo-context.js';
import type { EnrollmentTokenTable } from './schema.js';

/** The enrollment-token reader over `ctx`. */
export function tokenReader(ctx: RepoContext): EnrollmentTokenReader {
  return { get: (tokenHash) => getToken(ctx, tokenHash), list: (query) => listTokens(ctx, query ?? {}) };
}

/** The enrollment-token writer over `ctx` (a transaction). */
export function tokenWriter(ctx: RepoContext): EnrollmentTokenWriter {
  return {
    ...tokenReader(ctx),
    create: (input) => createToken(ctx, input),
    consume: (tokenHash, now) => consumeToken(ctx, tokenHash, now),
  };
}

async function getToken(ctx: RepoContext, tokenHash: string): Promise<EnrollmentTokenRecord | undefined> {
  const row = await ctx.db.selectFrom('enrollment_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  return row === undefined ? undefined : toTokenRecord(row);
}

async function listTokens(ctx: RepoContext, query: EnrollmentTokenQuery): Promise<PageOutcome<EnrollmentTokenRecord>> {
  const request = pageWindow('enrollment-tokens', query, 'string');
  if (!request.ok) return invalidCursor(request.problem);
  const { limit, after } = request.window;
  const rows = await ctx.db
    .selectFrom('enrollment_tokens')
    .selectAll()
    .$if(after !== undefined, (qb) => qb.where('token_hash', '>', after as string))
    .$if(query.agentId !== undefined, (qb) => qb.where('agent_id', '=', query.agentId ?? ''))
    .orderBy('token_hash')
    .limit(limit + 1)
    .execute();
  const page = cutRows(rows, limit);
  return pageOf('enrollment-tokens', page.rows.map(toTokenRecord), page.hasMore, (token) => token.tokenHash);
}

async function createToken(
  ctx: RepoContext,
  input: EnrollmentTokenInput,
): Promise<Outcome<EnrollmentTokenRecord, NotFound | AlreadyExists>> {
  assertStorable('enrollment token', input);
  // Checked first: a foreign-key violation would abort a PostgreSQL transaction instead of being an outcome.
  const agent = await ctx.db.selectFrom('agents').select('id').where('id', '=', input.agentId).executeTakeFirst();
  if (agent === undefined) return { ok: false, code: 'DMR_CONTROL_NOT_FOUND', message: `agent ${input.agentId} does not exist` };
  const row: Selectable<EnrollmentTokenTable> = {
    token_hash: input.tokenHash,
    agent_id: input.agentId,
    created_at: ctx.now(),
    expires_at: toIsoTime(input.expiresAt, 'expiresAt'),
    created_by: input.createdBy,
    used_at: null,
  };
  const result = await ctx.db
    .insertInto('enrollment_tokens')
    .values(row)
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) {
    return { ok: false, code: 'DMR_CONTROL_ALREADY_EXISTS', message: 'an enrollment token with this hash already exists' };
  }
  return { ok: true, value: toTokenRecord(row) };
}

// The UPDATE's WHERE is the whole rule (unused and unexpired), so of concurrent consumers exactly one matches a
// row; PostgreSQL re-checks `used_at is null` after waiting for the winner's row lock.
async function consumeToken(ctx: RepoContext, tokenHash: string, now: Date): Promise<Outcome<EnrollmentTokenRecord, TokenRefusal>> {
  const at = toIsoTime(now, 'now');
  const used = await ctx.db
    .updateTable('enrollment_tokens')
    .set({ used_at: at })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .returningAll()
    .executeTakeFirst();
  if (used !== undefined) return { ok: true, value: toTokenRecord(used) };
  const row = await getToken(ctx, tokenHash);
  if (row === undefined) return { ok: false, code: 'DMR_CONTROL_TOKEN_UNKNOWN', message: 'no such enrollment token' };
  if (row.usedAt !== null) return { ok: false, code: 'DMR_CONTROL_TOKEN_USED', message: `enrollment token was used at ${row.usedAt}` };
  return { ok: false, code: 'DMR_CONTROL_TOKEN_EXPIRED', message: `enrollment token expired at ${row.expiresAt}` };
}

function toTokenRecord(row: Selectable<EnrollmentTokenTable>): EnrollmentTokenRecord {
  return {
    tokenHash: row.token_hash,
    agentId: row.agent_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    usedAt: row.used_at,
  };
}
