import type { TlsOptions } from 'node:tls';
import { type DmrError, ERROR_CATALOG, type Logger } from '@dmr/shared';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Registry } from 'prom-client';

/** One readiness check's state. */
export interface ReadinessReport {
  readonly isReady: boolean;
  readonly checks: Readonly<Record<string, string>>;
  /**
   * Why a check is not plain good, for operators (e.g. `crl`: when the CRL in force expired), `configVersion` in force,
   * and `policy` (issue 19: `{engine, version, lastError?}`).
   */
  readonly detail?: Readonly<Record<string, string | object>>;
}

/** What the HTTP surface needs. */
export interface HttpDeps {
  readonly metricsRegistry: Registry;
  readonly readiness: () => ReadinessReport;
  readonly log: Logger;
  /** HTTPS (mutual TLS) options; plain HTTP when absent. */
  readonly https?: TlsOptions;
}

/**
 * The operator-facing HTTP surface of dmr-server: liveness, readiness and Prometheus metrics.
 * Socket.IO attaches to the same HTTP server.
 */
export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    ...(deps.https ? { https: deps.https } : {}),
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/v1/health', async () => ({ status: 'ok' }));
  app.get('/v1/ready', async (_request, reply) => {
    const report = deps.readiness();
    return reply.code(report.isReady ? 200 : 503).send({
      status: report.isReady ? 'ready' : 'not-ready',
      checks: report.checks,
      ...(report.detail ? { detail: report.detail } : {}),
    });
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metricsRegistry.metrics();
    return reply.type(deps.metricsRegistry.contentType).send(body);
  });
  app.setErrorHandler((error: Partial<DmrError> & Error, _request, reply) => {
    const code = error.code && Object.hasOwn(ERROR_CATALOG, error.code) ? error.code : 'DMR_INTERNAL_ERROR';
    const statusCode = error.httpStatus ?? (error as { statusCode?: number }).statusCode ?? 500;
    return reply.code(statusCode).send({ statusCode, code, message: error.message });
  });
  return app;
}
