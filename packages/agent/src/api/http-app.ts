import { Socket } from 'node:net';
import type { Logger } from '@dmr/shared';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import type { HttpConfig } from '../config/index.js';
import { retryAfterSecondsOf } from '../link/index.js';
import { answerThenDiscard } from './early-answer.js';
import { errorBody, translateFastifyError } from './error-body.js';
import { buildOpenApiDocument } from './openapi.js';
import { BACKPRESSURE_RETRY_AFTER_S, type OutboundSender } from './outbound-sender.js';

/** Port: HTTP metrics and the registry `/metrics` exposes (implemented by `AgentMetrics`). */
export interface HttpMetricsPort {
  readonly registry: Registry;
  httpResponse(method: string, route: string, status: number, durationS: number): void;
}

/** Readiness as `/v1/ready` reports it. */
export interface Readiness {
  readonly isReady: boolean;
  readonly checks: { readonly server: string; readonly agentList: 'received' | 'pending' };
}

/** What the HTTP API needs. */
export interface HttpAppDeps {
  readonly log: Logger;
  readonly metrics: HttpMetricsPort;
  readonly outbound: Pick<OutboundSender, 'send' | 'recordUnreadable' | 'admissionRefusal'>;
  readonly readiness: () => Readiness;
}

const MESSAGES_ROUTE = '/v1/messages';

/**
 * Builds the agent's HTTP API (not listening): `POST /v1/messages`, `GET /v1/health`, `GET /v1/ready`, `GET /metrics`,
 * `GET /v1/openapi.json` (its OpenAPI 3.1 description).
 * Bodies are validated by the shared validator, not fastify's ajv, so field paths match the rest of DMR.
 */
export function buildHttpApp(config: HttpConfig, deps: HttpAppDeps): FastifyInstance {
  const app = Fastify({
    // Widened to fastify's logger interface so the app keeps fastify's default generics (pino's type is stricter).
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: config.maxMessageBytes,
    // One outcome line per message is logged by the sender; per-request lines would double the volume.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setErrorHandler((error: { code?: string; statusCode?: number; message: string }, request, reply) => {
    const body = translateFastifyError(error, config.maxMessageBytes);
    if (body.code === 'DMR_INTERNAL_ERROR') request.log.error({ err: error }, 'request failed');
    else if (request.routeOptions.url === MESSAGES_ROUTE) deps.outbound.recordUnreadable(body.code, body.message, reply.elapsedTime);
    // inject() requests have no connection to reset; a real one whose body is complete takes a normal reply
    if (!(request.raw.socket instanceof Socket) || request.raw.complete) return reply.code(body.statusCode).send(body);
    // the body is still arriving (too large, or refused unread): a normal reply would reset the connection under it
    reply.hijack();
    answerThenDiscard(request.raw, body.statusCode, body);
    // hijacked replies skip the onResponse hook
    deps.metrics.httpResponse(request.method, request.routeOptions.url ?? 'unmatched', body.statusCode, reply.elapsedTime / 1000);
    return undefined;
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: raw URLs would give every 404 probe its own time series.
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpResponse(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
  registerRoutes(app, deps);
  return app;
}

function registerRoutes(app: FastifyInstance, deps: HttpAppDeps): void {
  // Refused before the body is read or parsed (the outcome line then has no message id): at 2 × saturation half the
  // requests are refused, and reading them would take CPU from the accepted ones. The handler checks again.
  const refuseEarly = async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const refused = deps.outbound.admissionRefusal();
    if (!refused) return;
    deps.outbound.recordUnreadable(refused.code, refused.message, reply.elapsedTime);
    if (refused.code === 'DMR_LINK_BACKPRESSURE') reply.header('retry-after', String(BACKPRESSURE_RETRY_AFTER_S));
    const body = errorBody(refused.code, refused.message);
    await reply.code(body.statusCode).send(body);
  };
  app.post(MESSAGES_ROUTE, { onRequest: refuseEarly }, async (request, reply) => {
    const result = await deps.outbound.send(request.body);
    if (result.ok) return reply.code(202).send({ id: result.id, status: 'accepted' });
    const { code, message, errors, reason, serverCode } = result;
    const body = errorBody(code, message, { errors, reason, serverCode });
    if (code === 'DMR_LINK_BACKPRESSURE') reply.header('retry-after', String(BACKPRESSURE_RETRY_AFTER_S));
    const retryAfterS = retryAfterSecondsOf(code);
    if (retryAfterS !== undefined) reply.header('retry-after', String(retryAfterS));
    return reply.code(body.statusCode).send(body);
  });
  const openApi = buildOpenApiDocument();
  app.get('/v1/openapi.json', async () => openApi);
  app.get('/v1/health', async () => ({ status: 'ok' }));
  app.get('/v1/ready', async (_request, reply) => {
    const readiness = deps.readiness();
    return reply.code(readiness.isReady ? 200 : 503).send({ status: readiness.isReady ? 'ok' : 'not_ready', checks: readiness.checks });
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(text);
  });
}
