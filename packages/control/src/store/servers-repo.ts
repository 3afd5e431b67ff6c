// Server instances as they last reported themselves. A report is not a config change: it never bumps.

import type { Selectable } from 'kysely';
import type { ServerReader, ServerWriter } from './control-store.js';
import { cutRows, invalidCursor, pageOf, pageWindow } from './paging.js';
import type { PageOutcome, PageQuery } from './queries.js';
import type { ServerRecord, ServerReport } from './records.js';
import { assertStorable, type RepoContext, toIsoTime, toNumber } from './repo-context.js';
import type { ServerTable } from './schema.js';

/** The server reader over `ctx`. */
export function serverReader(ctx: RepoContext): ServerReader {
  return {
    get: async (instanceId) => {
      const row = await ctx.db.selectFrom('servers').selectAll().where('instance_id', '=', instanceId).executeTakeFirst();
      return row === undefined ? undefined : toServerRecord(row);
    },
    list: (query) => listServers(ctx, query ?? {}),
  };
}

/** The server writer over `ctx` (a transaction). */
export function serverWriter(ctx: RepoContext): ServerWriter {
  return { ...serverReader(ctx), report: (report) => recordReport(ctx, report) };
}

async function listServers(ctx: RepoContext, query: PageQuery): Promise<PageOutcome<ServerRecord>> {
  const request = pageWindow('servers', query, 'string');
  if (!request.ok) return invalidCursor(request.problem);
  const { limit, after } = request.window;
  const rows = await ctx.db
    .selectFrom('servers')
    .selectAll()
    .$if(after !== undefined, (qb) => qb.where('instance_id', '>', after as string))
    .orderBy('instance_id')
    .limit(limit + 1)
    .execute();
  const page = cutRows(rows, limit);
  return pageOf('servers', page.rows.map(toServerRecord), page.hasMore, (server) => server.instanceId);
}

async function recordReport(ctx: RepoContext, report: ServerReport): Promise<ServerRecord> {
  const { crlNumbers, ...text } = report;
  assertStorable('server report', text);
  const now = ctx.now();
  const row: Selectable<ServerTable> = {
    instance_id: report.instanceId,
    name: report.name,
    first_seen_at: now,
    last_sync_at: now,
    config_version: report.configVersion,
    crl_numbers: JSON.stringify(crlNumbers ?? null),
    software_version: report.softwareVersion,
    started_at: report.startedAt === null ? null : toIsoTime(report.startedAt, 'startedAt'),
  };
  const { first_seen_at: _kept, ...replaced } = row;
  const stored = await ctx.db
    .insertInto('servers')
    .values(row)
    .onConflict((oc) => oc.column('instance_id').doUpdateSet(replaced))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toServerRecord(stored);
}

function toServerRecord(row: Selectable<ServerTable>): ServerRecord {
  return {
    instanceId: row.instance_id,
    name: row.name,
    firstSeenAt: row.first_seen_at,
    lastSyncAt: row.last_sync_at,
    configVersion: toNumber(row.config_version),
    crlNumbers: JSON.parse(row.crl_numbers),
    softwareVersion: row.software_version,
    startedAt: row.started_at,
  };
}
