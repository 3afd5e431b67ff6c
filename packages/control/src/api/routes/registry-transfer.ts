import type { ControlKind } from '@dmr/shared';
import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { stringify as toYaml } from 'yaml';
import {
  type CheckedRegistry,
  checkRegistryDocument,
  diffRegistry,
  type FullAgentEntry,
  REGISTRY_DOCUMENT_FORMAT,
  type RegistryDiff,
  type RegistryDocument,
} from '../../domain/index.js';
import type { ChangeActor, ControlReader, ControlTransaction } from '../../store/index.js';
import { storeValueOrThrow, valueOrThrow } from '../api-error.js';
import { commitWrite } from '../commit.js';
import { listAll, type RouteContext, type RouteGroup, writeContextOf } from '../route-context.js';
import { ErrorBody, ExportQuery, ImportQuery, ImportResult, RegistryDocumentSchema } from '../schemas.js';
import { agentEntry } from '../views.js';

type ImportRequest = FastifyRequest<{ Querystring: Static<typeof ImportQuery>; Body: Static<typeof RegistryDocumentSchema> }>;

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

/** `GET /v1/export` and `POST /v1/import` (admin): the whole registry and the policy as one JSON or YAML document. */
export const registryTransferRoutes: RouteGroup = async (app, { context }) => {
  app.get<{ Querystring: Static<typeof ExportQuery> }>(
    '/v1/export',
    {
      config: { access: 'registry:export' },
      schema: {
        tags: ['registry'],
        summary: 'Every agent and the latest policy as one document (?format=yaml for YAML)',
        querystring: ExportQuery,
        response: {
          200: {
            content: { 'application/json': { schema: RegistryDocumentSchema }, 'application/yaml': { schema: RegistryDocumentSchema } },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const document = await context.store().snapshot(readRegistryDocument);
      if (request.query.format === 'yaml') return reply.type('application/yaml; charset=utf-8').send(toYaml(document, { lineWidth: 0 }));
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(document));
    },
  );
  app.post(
    '/v1/import',
    {
      config: { access: 'registry:import' },
      schema: {
        tags: ['registry'],
        summary: 'Import a registry document in one transaction (all or nothing); ?dryRun=true answers the diff only',
        querystring: ImportQuery,
        body: {
          content: { 'application/json': { schema: RegistryDocumentSchema }, 'application/yaml': { schema: RegistryDocumentSchema } },
        },
        response: { 200: ImportResult, ...errors, 413: ErrorBody, 415: ErrorBody },
      },
    },
    async (request) => importRegistry(context, request as ImportRequest),
  );
};

/** The registry document of one consistent view: every agent (by id), the latest policy, the configVersion. */
async function readRegistryDocument(view: ControlReader): Promise<RegistryDocument> {
  const agents = await listAll((cursor) => view.agents.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) }));
  const policy = await view.policies.latest();
  return {
    format: REGISTRY_DOCUMENT_FORMAT,
    exportedAt: new Date().toISOString(),
    configVersion: await view.configVersion(),
    agents: agents.map(agentEntry),
    policy: policy === undefined ? null : { document: policy.document as Record<string, unknown>, comment: policy.comment },
  };
}

async function importRegistry(context: RouteContext, request: ImportRequest): Promise<Record<string, unknown>> {
  const incoming = valueOrThrow(checkRegistryDocument(request.body as RegistryDocument));
  const prune = request.query.prune === true;
  if (request.query.dryRun === true) {
    return context.store().snapshot(async (view) => ({
      dryRun: true,
      configVersion: await view.configVersion(),
      diff: diffRegistry(await currentRegistry(view), incoming, { prune }),
    }));
  }
  const committed = await commitWrite(
    writeContextOf(context, request),
    kindsOf,
    async (tx, actor) => applyImport(tx, actor, incoming, diffRegistry(await currentRegistry(tx), incoming, { prune })),
    isEmptyDiff,
  );
  return { dryRun: false, configVersion: committed.configVersion, diff: committed.value };
}

async function currentRegistry(view: ControlReader): Promise<{ agents: FullAgentEntry[]; policyDocument: unknown }> {
  const agents = await listAll((cursor) => view.agents.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) }));
  return { agents: agents.map(agentEntry), policyDocument: (await view.policies.latest())?.document };
}

/** Writes what `diff` says, inside the import's one transaction, with one change log entry per record touched. */
async function applyImport(
  tx: ControlTransaction,
  actor: ChangeActor,
  incoming: CheckedRegistry,
  diff: RegistryDiff,
): Promise<RegistryDiff> {
  const byId = new Map(incoming.agents.map((agent) => [agent.id, agent]));
  for (const id of diff.agents.added) {
    const created = storeValueOrThrow(await tx.agents.create(byId.get(id) as FullAgentEntry));
    tx.changes.append({ actor, action: 'agent.create', subjectKind: 'agent', subjectId: id, after: created, outcome: 'applied' });
  }
  for (const { id } of diff.agents.changed) {
    const before = await tx.agents.get(id);
    const { id: _id, ...fields } = byId.get(id) as FullAgentEntry;
    const after = storeValueOrThrow(await tx.agents.update(id, fields));
    tx.changes.append({ actor, action: 'agent.update', subjectKind: 'agent', subjectId: id, before, after, outcome: 'applied' });
  }
  for (const id of diff.agents.removed) {
    const before = storeValueOrThrow(await tx.agents.delete(id));
    tx.changes.append({ actor, action: 'agent.delete', subjectKind: 'agent', subjectId: id, before, outcome: 'applied' });
  }
  if (incoming.policy && (diff.policy === 'added' || diff.policy === 'changed')) {
    const { document, comment } = incoming.policy;
    const created = await tx.policies.insert({ document, comment: comment ?? 'imported', createdBy: actor.subject });
    tx.changes.append({
      actor,
      action: 'policy.create',
      subjectKind: 'policy',
      subjectId: String(created.version),
      after: created,
      outcome: 'applied',
    });
  }
  return diff;
}

function isEmptyDiff(diff: RegistryDiff): boolean {
  const { added, changed, removed } = diff.agents;
  return added.length === 0 && changed.length === 0 && removed.length === 0 && (diff.policy === 'unchanged' || diff.policy === 'absent');
}

function kindsOf(diff: RegistryDiff): ControlKind[] {
  const { added, changed, removed } = diff.agents;
  const kinds: ControlKind[] = added.length + changed.length + removed.length > 0 ? ['registry'] : [];
  return diff.policy === 'added' || diff.policy === 'changed' ? [...kinds, 'policy'] : kinds;
}
