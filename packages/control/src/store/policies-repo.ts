// Versioned policy documents: the version comes from a counter row, so concurrent inserts never collide.

import type { Selectable } from 'kysely';
import type { PolicyReader, PolicyWriter } from './control-store.js';
import { cutRows, invalidCursor, pageOf, pageWindow } from './paging.js';
import type { PageOutcome, PageQuery } from './queries.js';
import type { PolicyInput, PolicyRecord } from './records.js';
import { assertStorable, type RepoContext } from './repo-context.js';
import type { PolicyTable } from './schema.js';
import { markConfigWrite, nextCounterValue } from './tx-bookkeeping.js';

/** The policy reader over `ctx`. */
export function policyReader(ctx: RepoContext): PolicyReader {
  return {
    get: async (version) => {
      const row = await ctx.db.selectFrom('policies').selectAll().where('version', '=', version).executeTakeFirst();
      return row === undefined ? undefined : toPolicyRecord(row);
    },
    latest: async () => {
      const row = await ctx.db.selectFrom('policies').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
      return row === undefined ? undefined : toPolicyRecord(row);
    },
    list: (query) => listPolicies(ctx, query ?? {}),
  };
}

/** The policy writer over `ctx` (a transaction). */
export function policyWriter(ctx: RepoContext): PolicyWriter {
  return { ...policyReader(ctx), insert: (input) => insertPolicy(ctx, input) };
}

async function listPolicies(ctx: RepoContext, query: PageQuery): Promise<PageOutcome<PolicyRecord>> {
  const request = pageWindow('policies', query, 'integer');
  if (!request.ok) return invalidCursor(request.problem);
  const { limit, after } = request.window;
  const rows = await ctx.db
    .selectFrom('policies')
    .selectAll()
    .$if(after !== undefined, (qb) => qb.where('version', '>', after as number))
    .orderBy('version')
    .limit(limit + 1)
    .execute();
  const page = cutRows(rows, limit);
  return pageOf('policies', page.rows.map(toPolicyRecord), page.hasMore, (policy) => policy.version);
}

async function insertPolicy(ctx: RepoContext, input: PolicyInput): Promise<PolicyRecord> {
  assertStorable('policy', { createdBy: input.createdBy, comment: input.comment });
  const row: Selectable<PolicyTable> = {
    version: await nextCounterValue(ctx.db, 'policy_version'),
    // undefined has no JSON form: stored (and read back) as null
    document: JSON.stringify(input.document ?? null),
    created_at: ctx.now(),
    created_by: input.createdBy,
    comment: input.comment,
  };
  await ctx.db.insertInto('policies').values(row).execute();
  markConfigWrite(ctx);
  return toPolicyRecord(row);
}

function toPolicyRecord(row: Selectable<PolicyTable>): PolicyRecord {
  return {
    version: row.version,
    document: JSON.parse(row.document),
    createdAt: row.created_at,
    createdBy: row.created_by,
    comment: row.comment,
  };
}
