import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpsListenerConfig } from '../config/ops-config.js';
import { type DmrErrorCode, ERROR_CATALOG } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { LISTEN_BACKLOG } from './listen-backlog.js';
import { matchOpsRequest, OPS_ROUTES, type OpsRoute } from './ops-routes.js';

/** The deployable's own answer to `GET <route>`; fastify's `app.inject()` response has this shape. */
export interface OpsAnswer {
  readonly statusCode: number;
  readonly headers: OutgoingHttpHeaders;
  readonly rawPayload: Buffer;
}

/** What the ops listener needs: the main HTTP app's answer for a route (so both ports answer alike), and a logger. */
export interface OpsListenerDeps {
  /** Asks the deployable's HTTP app for `GET <url>` without a socket (`(request) => app.inject(request)`). */
  readonly forward: (request: { readonly method: 'GET'; readonly url: OpsRoute }) => Promise<OpsAnswer>;
  readonly log: Logger;
}

/** Lifecycle state of the ops listener. */
export type OpsListenerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

const NOT_SERVED = `the ops listener serves only GET and HEAD of ${OPS_ROUTES.join(', ')}`;

/**
 * Plain-HTTP listener for probes and Prometheus (`DMR_OPS_HOST`:`DMR_OPS_PORT`): no TLS, no client certificate,
 * and nothing but {@link OPS_ROUTES}: every other method or path is answered 404 `DMR_OPS_ROUTE_NOT_FOUND`, so no
 * message route is reachable through it. Answers are the main app's own (same status, body and content type).
 */
export class OpsListener {
  readonly #config: OpsListenerConfig;
  readonly #deps: OpsListenerDeps;
  readonly #server: Server;
  #state: OpsListenerState = 'idle';
  #stopping: Promise<void> | undefined;

  constructor(config: OpsListenerConfig, deps: OpsListenerDeps) {
    this.#config = config;
    this.#deps = deps;
    // probes answer in milliseconds: a connection that takes longer to send its request is dropped
    this.#server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (request, response) => {
      void this.#answer(request, response);
    });
  }

  get state(): OpsListenerState {
    return this.#state;
  }

  /** The bound port once running (the configured one, or the free port picked for `DMR_OPS_PORT=0`). */
  get port(): number | undefined {
    const address = this.#server.address() as AddressInfo | null;
    return address?.port;
  }

  /** Binds `host:port`; rejects when the address cannot be bound (e.g. in use). */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'starting';
    const { host, port } = this.#config;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#state = 'running';
    this.#deps.log.info({ host, port: this.port }, 'ops listener started (health, readiness, metrics; plain HTTP)');
  }

  /** Closes the listener and every open connection (probes and scrapes reconnect). Memoised. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const wasListening = this.#server.listening;
    this.#state = 'stopping';
    if (wasListening) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeAllConnections();
      await closed;
    }
    this.#state = 'stopped';
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const match = matchOpsRequest(request.method, request.url);
    if (!match.ok) {
      // a body sent to a route that is not served is not read: close rather than drain it
      if (request.method !== 'GET' && request.method !== 'HEAD') response.shouldKeepAlive = false;
      sendError(response, 'DMR_OPS_ROUTE_NOT_FOUND', NOT_SERVED, request.method === 'HEAD');
      return;
    }
    try {
      const answer = await this.#deps.forward({ method: 'GET', url: match.route });
      response.writeHead(answer.statusCode, {
        'content-type': String(answer.headers['content-type'] ?? 'application/octet-stream'),
        'content-length': answer.rawPayload.length,
        'cache-control': 'no-store',
      });
      response.end(match.isHead ? undefined : answer.rawPayload);
    } catch (error) {
      this.#deps.log.error({ err: error, route: match.route }, 'ops route failed');
      if (!response.headersSent) sendError(response, 'DMR_INTERNAL_ERROR', 'internal error', match.isHead);
      else response.destroy();
    }
  }
}

function sendError(response: ServerResponse, code: DmrErrorCode, message: string, isHead: boolean): void {
  const statusCode = ERROR_CATALOG[code].httpStatus;
  const body = Buffer.from(JSON.stringify({ statusCode, code, message }));
  response.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(isHead ? undefined : body);
}
