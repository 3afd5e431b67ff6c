// The agent registry on Kysely: rows in `agents`, groups and labels in their own tables (plain SQL filters).

import type { SelectQueryBuilder } from 'kysely';
import { compareCodePoints } from '../domain/index.js';
import { type AgentRow, newAgentRow, patchColumns, toAgentRecord, uniqueGroups } from './agent-rows.js';
import type { AgentReader, AgentWriter } from './control-store.js';
import { cutRows, invalidCursor, pageOf, pageWindow } from './paging.js';
import type { AgentQuery, AlreadyExists, NotFound, Outcome, PageOutcome, RevisionRefusal } from './queries.js';
import type { AgentInput, AgentPatch, AgentRecord } from './records.js';
import { assertStorable, type RepoContext } from './repo-context.js';
import type { ControlDatabase } from './schema.js';
import { markConfigWrite } from './tx-bookkeeping.js';

/** The agent reader over `ctx`. */
export function agentReader(ctx: RepoContext): AgentReader {
  return { get: (id) => getAgent(ctx, id), list: (query) => listAgents(ctx, query ?? {}) };
}

/** The agent writer over `ctx` (a transaction). */
export function agentWriter(ctx: RepoContext): AgentWriter {
  return {
    ...agentReader(ctx),
    create: (input) => createAgent(ctx, input),
    update: (id, patch, expectedRevision) => updateAgent(ctx, id, patch, expectedRevision),
    delete: (id, expectedRevision) => deleteAgent(ctx, id, expectedRevision),
  };
}

async function getAgent(ctx: RepoContext, id: string): Promise<AgentRecord | undefined> {
  const row = await ctx.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) return undefined;
  const [record] = await withChildren(ctx, [row]);
  return record;
}

async function listAgents(ctx: RepoContext, query: AgentQuery): Promise<PageOutcome<AgentRecord>> {
  const request = pageWindow('agents', query, 'string');
  if (!request.ok) return invalidCursor(request.problem);
  const { limit, after } = request.window;
  const rows = await filterAgents(ctx.db.selectFrom('agents').selectAll(), query)
    .$if(after !== undefined, (qb) => qb.where('id', '>', after as string))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const page = cutRows(rows, limit);
  return pageOf('agents', await withChildren(ctx, page.rows), page.hasMore, (agent) => agent.id);
}

type AgentSelect = SelectQueryBuilder<ControlDatabase, 'agents', AgentRow>;

function filterAgents(select: AgentSelect, query: AgentQuery): AgentSelect {
  const { label, namePrefix, group, enabled, hasAuthenticationCertificate: hasKey } = query;
  return (
    select
      .$if(enabled !== undefined, (qb) => qb.where('enabled', '=', enabled ? 1 : 0))
      .$if(hasKey !== undefined, (qb) => qb.where('authentication_certificate', hasKey ? 'is not' : 'is', null))
      // by code point count, which substr counts in both engines (JS length counts UTF-16 units)
      .$if(namePrefix !== undefined, (qb) =>
        qb.where((eb) => eb(eb.fn('substr', ['name', eb.lit(1), eb.val([...(namePrefix ?? '')].length)]), '=', namePrefix ?? '')),
      )
      .$if(group !== undefined, (qb) =>
        qb.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('agent_groups')
              .select('agent_id')
              .whereRef('agent_id', '=', 'agents.id')
              .where('group_name', '=', group ?? ''),
          ),
        ),
      )
      .$if(label !== undefined, (qb) =>
        qb.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('agent_labels')
              .select('agent_id')
              .whereRef('agent_id', '=', 'agents.id')
              .where('label_key', '=', label?.key ?? '')
              .where('label_value', '=', label?.value ?? ''),
          ),
        ),
      )
  );
}

// Two queries for the whole page rather than two per agent.
async function withChildren(ctx: RepoContext, rows: readonly AgentRow[]): Promise<AgentRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const groups = await ctx.db
    .selectFrom('agent_groups')
    .select(['agent_id', 'group_name'])
    .where('agent_id', 'in', ids)
    .orderBy('agent_id')
    .orderBy('position')
    .execute();
  const labels = await ctx.db
    .selectFrom('agent_labels')
    .select(['agent_id', 'label_key', 'label_value'])
    .where('agent_id', 'in', ids)
    .orderBy('agent_id')
    .orderBy('label_key')
    .execute();
  const groupsOf = groupBy(groups, (group) => group.agent_id);
  const labelsOf = groupBy(labels, (label) => label.agent_id);
  return rows.map((row) => toAgentRecord(row, groupsOf.get(row.id) ?? [], labelsOf.get(row.id) ?? []));
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

async function createAgent(ctx: RepoContext, input: AgentInput): Promise<Outcome<AgentRecord, AlreadyExists>> {
  assertStorable('agent', input);
  const row = newAgentRow(input, ctx.now());
  // ON CONFLICT DO NOTHING: a duplicate id is an outcome, and must not abort a PostgreSQL transaction
  const result = await ctx.db
    .insertInto('agents')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) {
    return { ok: false, code: 'DMR_CONTROL_ALREADY_EXISTS', message: `agent ${input.id} already exists` };
  }
  await replaceGroups(ctx, input.id, input.groups);
  await replaceLabels(ctx, input.id, input.labels);
  markConfigWrite(ctx);
  return { ok: true, value: toAgentRecord(row, namedGroups(input.groups), labelRows(input.labels)) };
}

async function updateAgent(
  ctx: RepoContext,
  id: string,
  patch: AgentPatch,
  expectedRevision: number | undefined,
): Promise<Outcome<AgentRecord, NotFound | RevisionRefusal>> {
  assertStorable('agent', patch);
  // One conditional UPDATE: PostgreSQL re-checks the revision after waiting for a concurrent writer's row lock.
  const updated = await ctx.db
    .updateTable('agents')
    .set((eb) => ({ ...patchColumns(patch), updated_at: ctx.now(), revision: eb('revision', '+', 1) }))
    .where('id', '=', id)
    .$if(expectedRevision !== undefined, (qb) => qb.where('revision', '=', expectedRevision ?? 0))
    .returningAll()
    .executeTakeFirst();
  if (updated === undefined) return refuseChange(ctx, id, 'update');
  if (patch.groups !== undefined) await replaceGroups(ctx, id, patch.groups, true);
  if (patch.labels !== undefined) await replaceLabels(ctx, id, patch.labels, true);
  markConfigWrite(ctx);
  const [record] = await withChildren(ctx, [updated]);
  return { ok: true, value: record as AgentRecord };
}

async function deleteAgent(
  ctx: RepoContext,
  id: string,
  expectedRevision: number | undefined,
): Promise<Outcome<AgentRecord, NotFound | RevisionRefusal>> {
  const current = await getAgent(ctx, id);
  if (current === undefined) return refuseChange(ctx, id, 'delete');
  const revision = expectedRevision ?? current.revision;
  const deleted = await ctx.db.deleteFrom('agents').where('id', '=', id).where('revision', '=', revision).executeTakeFirst();
  if (Number(deleted.numDeletedRows) === 0) return refuseChange(ctx, id, 'delete');
  markConfigWrite(ctx);
  return { ok: true, value: current };
}

// Why a conditional write touched no row: the agent is gone, or its revision moved on.
async function refuseChange(ctx: RepoContext, id: string, verb: string): Promise<NotFound | RevisionRefusal> {
  const row = await ctx.db.selectFrom('agents').select('revision').where('id', '=', id).executeTakeFirst();
  if (row === undefined) return { ok: false, code: 'DMR_CONTROL_NOT_FOUND', message: `agent ${id} does not exist` };
  return {
    ok: false,
    code: 'DMR_CONTROL_REVISION_MISMATCH',
    message: `agent ${id} is at revision ${row.revision}; ${verb} refused`,
    currentRevision: row.revision,
  };
}

async function replaceGroups(ctx: RepoContext, id: string, groups: readonly string[], isReplacing = false): Promise<void> {
  if (isReplacing) await ctx.db.deleteFrom('agent_groups').where('agent_id', '=', id).execute();
  const rows = uniqueGroups(groups).map((group_name, position) => ({ agent_id: id, group_name, position }));
  if (rows.length > 0) await ctx.db.insertInto('agent_groups').values(rows).execute();
}

async function replaceLabels(ctx: RepoContext, id: string, labels: Readonly<Record<string, string>>, isReplacing = false): Promise<void> {
  if (isReplacing) await ctx.db.deleteFrom('agent_labels').where('agent_id', '=', id).execute();
  const rows = labelRows(labels).map((label) => ({ agent_id: id, ...label }));
  if (rows.length > 0) await ctx.db.insertInto('agent_labels').values(rows).execute();
}

function namedGroups(groups: readonly string[]): { group_name: string }[] {
  return uniqueGroups(groups).map((group_name) => ({ group_name }));
}

// Sorted by key as the database returns them (code point order in both engines).
function labelRows(labels: Readonly<Record<string, string>>): { label_key: string; label_value: string }[] {
  return Object.entries(labels)
    .sort(([a], [b]) => compareCodePoints(a, b))
    .map(([label_key, label_value]) => ({ label_key, label_value }));
}
