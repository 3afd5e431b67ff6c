// The change log: read with filters, appended only through the transaction's queue (tx-bookkeeping.ts).

import type { Selectable } from 'kysely';
import type { ChangeLogReader, ChangeLogWriter } from './control-store.js';
import { cutRows, invalidCursor, pageOf, pageWindow } from './paging.js';
import type { ChangeQuery, PageOutcome } from './queries.js';
import type { ChangeOutcome, ChangeRecord } from './records.js';
import { type RepoContext, toIsoTime, toNumber } from './repo-context.js';
import type { ChangeLogTable } from './schema.js';
import { queueChange } from './tx-bookkeeping.js';

/** The change-log reader over `ctx`. */
export function changeLogReader(ctx: RepoContext): ChangeLogReader {
  return { list: (query) => listChanges(ctx, query ?? {}) };
}

/** The change-log writer over `ctx` (a transaction): append queues, the transaction's end writes. */
export function changeLogWriter(ctx: RepoContext): ChangeLogWriter {
  return { ...changeLogReader(ctx), append: (entry) => queueChange(ctx, entry) };
}

async function listChanges(ctx: RepoContext, query: ChangeQuery): Promise<PageOutcome<ChangeRecord>> {
  const request = pageWindow('changes', query, 'integer');
  if (!request.ok) return invalidCursor(request.problem);
  const { limit, after } = request.window;
  const { subjectKind, subjectId, action, outcome, since } = query;
  const rows = await ctx.db
    .selectFrom('change_log')
    .selectAll()
    .$if(after !== undefined, (qb) => qb.where('seq', '>', after as number))
    .$if(subjectKind !== undefined, (qb) => qb.where('subject_kind', '=', subjectKind ?? ''))
    .$if(subjectId !== undefined, (qb) => qb.where('subject_id', '=', subjectId ?? ''))
    .$if(action !== undefined, (qb) => qb.where('action', '=', action ?? ''))
    .$if(outcome !== undefined, (qb) => qb.where('outcome', '=', outcome ?? ''))
    .$if(since !== undefined, (qb) => qb.where('at', '>=', toIsoTime(since ?? '', 'since')))
    .orderBy('seq')
    .limit(limit + 1)
    .execute();
  const page = cutRows(rows, limit);
  return pageOf('changes', page.rows.map(toChangeRecord), page.hasMore, (change) => change.seq);
}

function toChangeRecord(row: Selectable<ChangeLogTable>): ChangeRecord {
  return {
    seq: toNumber(row.seq),
    at: row.at,
    actor: { subject: row.actor_subject, role: row.actor_role },
    action: row.action,
    subjectKind: row.subject_kind,
    subjectId: row.subject_id,
    beforeHash: row.before_hash,
    afterHash: row.after_hash,
    configVersion: toNumber(row.config_version),
    outcome: row.outcome as ChangeOutcome,
    code: row.code,
  };
}
