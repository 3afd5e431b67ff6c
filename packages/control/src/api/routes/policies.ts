import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import Type from 'typebox';
import { checkPolicyDocument, checkText } from '../../domain/index.js';
import { ApiError, valueOrThrow } from '../api-error.js';
import { commitWrite } from '../commit.js';
import { pageOrThrow, type RouteContext, type RouteGroup, writeContextOf } from '../route-context.js';
import { ErrorBody, PolicyCreateBody, PolicyVersionParams, PolicyView, pageOf, pageQuery } from '../schemas.js';
import { policyView } from '../views.js';

const PolicyListQuery = Type.Object(pageQuery, { additionalProperties: false });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

/** `GET /v1/policies`, `GET /v1/policies/{version}` (read: every admin role and servers), `POST /v1/policies` (admin). */
export const policyRoutes: RouteGroup = async (app, { context }) => {
  app.get<{ Querystring: Static<typeof PolicyListQuery> }>(
    '/v1/policies',
    {
      config: { access: 'policies:read' },
      schema: {
        tags: ['policies'],
        summary: 'Policy versions, oldest first',
        querystring: PolicyListQuery,
        response: { 200: pageOf(PolicyView), ...errors },
      },
    },
    async (request) => {
      const page = pageOrThrow(await context.store().policies.list(request.query));
      return { items: page.items.map(policyView), nextCursor: page.nextCursor };
    },
  );
  app.get<{ Params: Static<typeof PolicyVersionParams> }>(
    '/v1/policies/:version',
    {
      config: { access: 'policies:read' },
      schema: {
        tags: ['policies'],
        summary: 'One policy version',
        params: PolicyVersionParams,
        response: { 200: PolicyView, ...errors, 404: ErrorBody },
      },
    },
    async (request) => {
      const policy = await context.store().policies.get(request.params.version);
      if (policy === undefined)
        throw new ApiError('DMR_CONTROL_NOT_FOUND', `no policy version ${request.params.version}`, { field: 'version' });
      return policyView(policy);
    },
  );
  app.post<{ Body: Static<typeof PolicyCreateBody> }>(
    '/v1/policies',
    {
      config: { access: 'policies:write' },
      schema: {
        tags: ['policies'],
        summary: 'Store a new policy version (a dmr-policy/v1 document, validated before it is stored)',
        body: PolicyCreateBody,
        response: { 201: PolicyView, ...errors, 413: ErrorBody },
      },
    },
    async (request, reply) => {
      const created = await createPolicy(context, request);
      return reply.code(201).header('location', `/v1/policies/${created.version}`).send(policyView(created));
    },
  );
};

async function createPolicy(context: RouteContext, request: FastifyRequest<{ Body: Static<typeof PolicyCreateBody> }>) {
  const document = valueOrThrow(checkPolicyDocument(request.body.document, 'document'));
  const comment = valueOrThrow(checkText('comment', request.body.comment ?? '', { isMultiline: true, maxLength: 4096 }));
  const writer = writeContextOf(context, request);
  const { value } = await commitWrite(writer, ['policy'], async (tx, actor) => {
    const created = await tx.policies.insert({ document, comment, createdBy: actor.subject });
    tx.changes.append({
      actor,
      action: 'policy.create',
      subjectKind: 'policy',
      subjectId: String(created.version),
      after: created,
      outcome: 'applied',
    });
    return created;
  });
  return value;
}
