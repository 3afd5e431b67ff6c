import type { TlsOptions } from 'node:tls';
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';

type SwaggerOpenApi = NonNullable<Extract<FastifyDynamicSwaggerOptions, { openapi?: unknown }>['openapi']>;

import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import type { PresentedCertificate } from '../domain/index.js';
import { registerBodyParsers } from './body-parsers.js';
import { registerCallerGuard } from './caller-guard.js';
import { registerErrorHandlers } from './error-handler.js';
import { OPENAPI_INFO, registerRouteDocs } from './openapi.js';
import type { RouteContext, RouteGroup } from './route-context.js';
import { ROUTE_GROUPS } from './routes/index.js';
import { compileValidator } from './validation.js';

/** What the admin API needs beyond the route context. */
export interface ApiDeps extends RouteContext {
  /** HTTPS options (server certificate, client CAs); absent only for `inject()`-only use (OpenAPI generation, tests). */
  readonly https?: TlsOptions;
  /** Largest request body, bytes (`DMR_MAX_BODY_BYTES`). */
  readonly maxBodyBytes: number;
  /** Whether the certificate with this canonical serial is revoked (the certs helper implements it). */
  readonly isRevoked: (serial: string) => Promise<boolean>;
  /** The client certificate of a request; default the TLS socket's (tests with `inject()` pass their own). */
  readonly identify?: (request: FastifyRequest) => PresentedCertificate | undefined;
  /** Counts a refused caller by code. */
  readonly onRefused?: (code: string) => void;
  /** Route groups; default {@link ROUTE_GROUPS}. */
  readonly routeGroups?: readonly RouteGroup[];
}

/**
 * The admin API of dmr-control: fastify over HTTPS asking for (not requiring) a client certificate, so the public
 * routes (CentOps configuration, health, OpenAPI) work without one while every `/v1/` admin route goes through the
 * caller guard. Bodies are strict UTF-8 JSON (YAML for imports) validated against the route schemas, unknown members
 * refused. Not listening, not even ready: `app.ready()` / `app.listen()` are the caller's.
 */
export function buildApiApp(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    ...(deps.https ? { https: { ...deps.https, requestCert: true, rejectUnauthorized: false } } : {}),
    bodyLimit: deps.maxBodyBytes,
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  app.setValidatorCompiler(({ schema, httpPart }) => compileValidator(schema, httpPart));
  registerBodyParsers(app);
  registerErrorHandlers(app, deps.log);
  registerCallerGuard(app, {
    store: deps.store,
    isRevoked: deps.isRevoked,
    log: deps.log.child({ component: 'caller-guard' }),
    ...(deps.identify ? { identify: deps.identify } : {}),
    ...(deps.onRefused ? { onRefused: deps.onRefused } : {}),
  });
  // plugins load in registration order at ready(): swagger first, so it sees every route
  // OpenAPI 3.1's `mutualTLS` security scheme is missing from @fastify/swagger's types (it passes it through as given)
  void app.register(swagger, { openapi: OPENAPI_INFO as unknown as SwaggerOpenApi });
  registerRouteDocs(app);
  const context: RouteContext = {
    store: deps.store,
    announce: deps.announce,
    readiness: deps.readiness,
    metricsRegistry: deps.metricsRegistry,
    log: deps.log,
    ...(deps.certificates ? { certificates: deps.certificates } : {}),
  };
  for (const group of deps.routeGroups ?? ROUTE_GROUPS) void app.register(group, { context });
  return app;
}
