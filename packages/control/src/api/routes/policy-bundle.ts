import { ApiError } from '../api-error.js';
import { buildPolicyBundle, type PolicyBundle, readBundleRego } from '../policy-bundle.js';
import type { RouteGroup } from '../route-context.js';
import { ErrorBody } from '../schemas.js';

/**
 * `GET /v1/policies/bundle.tar.gz` (read: every admin role and servers): the latest policy as an OPA bundle for the
 * `opa` engine's sidecar (docs/policy.md "OPA sidecar"). ETag is the policy version (plus the Rego's hash), and
 * `If-None-Match` with it gets 304, so OPA's bundle polling costs one small answer while nothing changed.
 */
export const policyBundleRoutes: RouteGroup = async (app, { context }) => {
  let rego: Promise<string> | undefined;
  let last: { readonly version: number; readonly bundle: PolicyBundle } | undefined;
  app.get(
    '/v1/policies/bundle.tar.gz',
    {
      config: { access: 'policies:read' },
      schema: {
        tags: ['policies'],
        summary: 'The latest policy as an OPA bundle (.manifest, dmr/dmr.rego, data.json); ETag = policy version',
        response: {
          200: {
            description: 'The bundle (gzipped tar)',
            content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } },
          },
          304: { description: 'Not modified (If-None-Match matched the ETag)', type: 'null' },
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      rego ??= readBundleRego().catch((error: unknown) => {
        rego = undefined;
        throw new ApiError('DMR_INTERNAL_ERROR', `cannot read the shipped Rego: ${(error as Error).message}`, { cause: error });
      });
      const regoText = await rego;
      const latest = await context.store().policies.latest();
      const version = latest?.version ?? 0;
      if (last?.version !== version)
        last = { version, bundle: await buildPolicyBundle({ version, document: latest?.document, rego: regoText }) };
      const { bundle } = last;
      reply.header('etag', bundle.etag).header('cache-control', 'no-cache');
      if (request.headers['if-none-match'] === bundle.etag) return reply.code(304).send();
      return reply.type('application/gzip').send(bundle.bytes);
    },
  );
};
