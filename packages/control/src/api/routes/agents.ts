import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { type AgentFields, checkAgentFields, checkAgentId, completeAgent } from '../../domain/index.js';
import type { AgentQuery, AgentRecord, ChangeActor, ControlTransaction } from '../../store/index.js';
import { ApiError, storeValueOrThrow, valueOrThrow } from '../api-error.js';
import { commitWrite } from '../commit.js';
import { pageOrThrow, type RouteContext, type RouteGroup, writeContextOf } from '../route-context.js';
import {
  AgentCreateBody,
  AgentIdParams,
  AgentListQuery,
  AgentPatchBody,
  AgentView,
  ErrorBody,
  IfMatchHeaders,
  pageOf,
} from '../schemas.js';
import { agentView, etagOf } from '../views.js';

type CreateBody = Static<typeof AgentCreateBody>;
type PatchBody = Static<typeof AgentPatchBody>;
type ListQuery = Static<typeof AgentListQuery>;
type IdParams = Static<typeof AgentIdParams>;

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

/** `GET/POST /v1/agents`, `GET/PATCH/DELETE /v1/agents/{id}`: the agent registry, with ETag / If-Match. */
export const agentRoutes: RouteGroup = async (app, { context }) => {
  app.get<{ Querystring: ListQuery }>(
    '/v1/agents',
    {
      config: { access: 'agents:read' },
      schema: {
        tags: ['agents'],
        summary: 'List agents (filters combine with AND)',
        querystring: AgentListQuery,
        response: { 200: pageOf(AgentView), ...errors },
      },
    },
    async (request) => {
      const page = pageOrThrow(await context.store().agents.list(agentQuery(request.query)));
      return { items: page.items.map(agentView), nextCursor: page.nextCursor };
    },
  );
  app.post<{ Body: CreateBody }>(
    '/v1/agents',
    {
      config: { access: 'agents:write' },
      schema: {
        tags: ['agents'],
        summary: 'Create an agent',
        body: AgentCreateBody,
        response: { 201: AgentView, ...errors, 409: ErrorBody },
      },
    },
    async (request, reply) => createAgent(context, request, reply),
  );
  app.get<{ Params: IdParams }>(
    '/v1/agents/:id',
    {
      config: { access: 'agents:read' },
      schema: {
        tags: ['agents'],
        summary: 'One agent; ETag = its revision',
        params: AgentIdParams,
        response: { 200: AgentView, ...errors, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const agent = await context.store().agents.get(request.params.id);
      if (agent === undefined) throw new ApiError('DMR_CONTROL_NOT_FOUND', `no agent "${request.params.id}"`, { field: 'id' });
      return reply.header('etag', etagOf(agent.revision)).send(agentView(agent));
    },
  );
  app.patch<{ Params: IdParams; Body: PatchBody }>(
    '/v1/agents/:id',
    {
      config: { access: 'agents:write' },
      schema: {
        tags: ['agents'],
        summary: 'Change an agent (If-Match required)',
        params: AgentIdParams,
        headers: IfMatchHeaders,
        body: AgentPatchBody,
        response: { 200: AgentView, ...errors, 404: ErrorBody, 412: ErrorBody, 428: ErrorBody },
      },
    },
    async (request, reply) => patchAgent(context, request, reply),
  );
  app.delete<{ Params: IdParams }>(
    '/v1/agents/:id',
    {
      config: { access: 'agents:write' },
      schema: {
        tags: ['agents'],
        summary: 'Delete an agent (If-Match required); its certificates stay as history',
        params: AgentIdParams,
        headers: IfMatchHeaders,
        response: { 204: { type: 'null', description: 'deleted' }, ...errors, 404: ErrorBody, 412: ErrorBody, 428: ErrorBody },
      },
    },
    async (request, reply) => deleteAgent(context, request, reply),
  );
};

async function createAgent(
  context: RouteContext,
  request: FastifyRequest<{ Body: CreateBody }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { id: givenId, ...fields } = request.body;
  const id = givenId === undefined ? randomUUID() : valueOrThrow(checkAgentId(givenId));
  const checked = valueOrThrow(checkAgentFields(fields, id));
  const { value: agent } = await commitWrite(writeContextOf(context, request), ['registry'], async (tx, actor) => {
    const created = storeValueOrThrow(await tx.agents.create(completeAgent({ ...checked, id })), 'id');
    tx.changes.append({ actor, action: 'agent.create', subjectKind: 'agent', subjectId: id, after: created, outcome: 'applied' });
    return created;
  });
  return reply.code(201).header('etag', etagOf(agent.revision)).header('location', `/v1/agents/${agent.id}`).send(agentView(agent));
}

async function patchAgent(
  context: RouteContext,
  request: FastifyRequest<{ Params: IdParams; Body: PatchBody }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { id } = request.params;
  const expected = requiredRevision(request);
  const patch: AgentFields = valueOrThrow(checkAgentFields(request.body, id));
  const { value: agent } = await commitWrite(writeContextOf(context, request), ['registry'], async (tx, actor) => {
    const before = await existingAgent(tx, id);
    const after = revisionOrThrow(await tx.agents.update(id, patch, expected));
    tx.changes.append({ actor, action: 'agent.update', subjectKind: 'agent', subjectId: id, before, after, outcome: 'applied' });
    return after;
  });
  return reply.header('etag', etagOf(agent.revision)).send(agentView(agent));
}

async function deleteAgent(
  context: RouteContext,
  request: FastifyRequest<{ Params: IdParams }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { id } = request.params;
  const expected = requiredRevision(request);
  await commitWrite(writeContextOf(context, request), ['registry'], async (tx: ControlTransaction, actor: ChangeActor) => {
    const before = revisionOrThrow(await tx.agents.delete(id, expected));
    tx.changes.append({ actor, action: 'agent.delete', subjectKind: 'agent', subjectId: id, before, outcome: 'applied' });
  });
  return reply.code(204).send();
}

async function existingAgent(tx: ControlTransaction, id: string): Promise<AgentRecord> {
  const agent = await tx.agents.get(id);
  if (agent === undefined) throw new ApiError('DMR_CONTROL_NOT_FOUND', `no agent "${id}"`, { field: 'id' });
  return agent;
}

type RevisionOutcome =
  | { readonly ok: true; readonly value: AgentRecord }
  | {
      readonly ok: false;
      readonly code: 'DMR_CONTROL_NOT_FOUND' | 'DMR_CONTROL_REVISION_MISMATCH';
      readonly message: string;
      readonly currentRevision?: number;
    };

/** The record, or 404 / 412 (with the current ETag, so the client can re-read and retry). */
function revisionOrThrow(outcome: RevisionOutcome): AgentRecord {
  if (outcome.ok) return outcome.value;
  const headers = outcome.currentRevision === undefined ? undefined : { etag: etagOf(outcome.currentRevision) };
  throw new ApiError(outcome.code, outcome.message, {
    field: outcome.code === 'DMR_CONTROL_NOT_FOUND' ? 'id' : 'If-Match',
    ...(headers ? { headers } : {}),
  });
}

/**
 * The revision of a strong `If-Match: "<revision>"`: 428 DMR_CONTROL_IF_MATCH_REQUIRED without one (a write
 * without it could overwrite a change its author never saw), 400 naming `If-Match` for any other form (`*`, weak, lists).
 */
export function requiredRevision(request: FastifyRequest): number {
  const header = request.headers['if-match'];
  if (header === undefined) {
    throw new ApiError('DMR_CONTROL_IF_MATCH_REQUIRED', 'If-Match is required: send the ETag of the agent as read', {
      field: 'If-Match',
    });
  }
  const match = /^"([1-9][0-9]{0,14})"$/.exec(header.trim());
  if (!match) throw new ApiError('DMR_CONTROL_INVALID_INPUT', 'If-Match must be one strong ETag, e.g. "3"', { field: 'If-Match' });
  return Number(match[1]);
}

function agentQuery(query: ListQuery): AgentQuery {
  const [labelKey, ...labelValue] = query.label?.split('=') ?? [];
  return {
    ...(query.limit === undefined ? {} : { limit: query.limit }),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    ...(query.enabled === undefined ? {} : { enabled: query.enabled }),
    ...(query.group === undefined ? {} : { group: query.group }),
    ...(labelKey === undefined ? {} : { label: { key: labelKey, value: labelValue.join('=') } }),
    ...(query.namePrefix === undefined ? {} : { namePrefix: query.namePrefix }),
    ...(query.hasKey === undefined ? {} : { hasAuthenticationCertificate: query.hasKey }),
  };
}
