import { createLogger, DmrError } from '@dmr/shared';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { ACCESS_ROLES, type Access } from '../domain/index.js';

/** The document's own version: bumped when the admin API contract changes, not with every release. */
export const OPENAPI_DOCUMENT_VERSION = '1.0.0';

/** The `openapi` options of @fastify/swagger: OpenAPI 3.1, mutual TLS as the security scheme. */
export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'DMR control plane admin API',
    version: OPENAPI_DOCUMENT_VERSION,
    description:
      'dmr-control: the agent registry (also served as the CentOps configuration), policies, server reports, the change log and ' +
      'registry import/export. Every /v1/ route but health, readiness and this document needs a client certificate from the ' +
      'control plane CA naming a role (`urn:dmr:role:<role>:<person>`, `urn:dmr:server:<name>`, `urn:dmr:agent:<id>`); each ' +
      'operation lists the roles it admits. Errors are `{statusCode, code, message, field?}` with codes from docs/errors.md. ' +
      'Generated from the route schemas; do not edit by hand (`npm run openapi`).',
  },
  components: {
    securitySchemes: {
      mutualTLS: {
        type: 'mutualTLS',
        description: 'a client certificate from the control plane CA whose SAN URI names the caller and its role',
      },
    },
  },
} as const;

/**
 * Adds to each route's schema what the OpenAPI document says of its access: `security: mutualTLS` and the roles that
 * may call it (from the same matrix the caller guard enforces, so the document cannot drift from it).
 */
export function registerRouteDocs(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const access: Access = (route.config as { access?: Access } | undefined)?.access ?? 'registry:import';
    if (route.schema === undefined || access === 'public') return;
    const roles = ACCESS_ROLES[access].join(', ');
    route.schema = {
      ...route.schema,
      security: [{ mutualTLS: [] }],
      description: `${route.schema.description ? `${route.schema.description} ` : ''}Roles: ${roles} (\`${access}\`).`,
    };
  });
}

/**
 * The OpenAPI 3.1 document of the admin API, generated from the route schemas of an app that never listens nor
 * touches a store. `npm run openapi` writes it to packages/control/openapi.json; a test keeps the two equal to what
 * a running dmr-control serves.
 */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  // imported here: http-app imports this module for OPENAPI_INFO
  const { buildApiApp } = await import('./http-app.js');
  const unavailable = (): never => {
    throw new DmrError('DMR_CONTROL_STORE_FAILED', 'no store: this app only describes the API');
  };
  const app = buildApiApp({
    store: unavailable,
    announce: () => undefined,
    readiness: async () => ({ isReady: false, checks: {} }),
    metricsRegistry: new Registry(),
    log: createLogger({ name: 'dmr-control-openapi', level: 'silent' }),
    maxBodyBytes: 1024,
    isRevoked: async () => false,
  });
  await app.ready();
  const document = app.swagger() as unknown as Record<string, unknown>;
  await app.close();
  return document;
}
