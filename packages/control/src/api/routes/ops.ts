import type { RouteGroup } from '../route-context.js';
import { HealthBody, ReadyBody } from '../schemas.js';

/** `GET /v1/health`, `GET /v1/ready`, `GET /metrics`: no certificate, also served on the ops listener (DMR_OPS_PORT). */
export const opsRoutes: RouteGroup = async (app, { context }) => {
  app.get(
    '/v1/health',
    {
      config: { access: 'public' },
      schema: { tags: ['ops'], summary: 'Liveness: 200 while the process runs', response: { 200: HealthBody } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/v1/ready',
    {
      config: { access: 'public' },
      schema: {
        tags: ['ops'],
        summary: 'Readiness: 200 when the store answers and the service runs, else 503',
        response: { 200: ReadyBody, 503: ReadyBody },
      },
    },
    async (_request, reply) => {
      const report = await context.readiness();
      return reply.code(report.isReady ? 200 : 503).send({ status: report.isReady ? 'ready' : 'not-ready', checks: report.checks });
    },
  );
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics',
        response: { 200: { type: 'string', description: 'text exposition format' } },
      },
    },
    async (_request, reply) => reply.type(context.metricsRegistry.contentType).send(await context.metricsRegistry.metrics()),
  );
};
