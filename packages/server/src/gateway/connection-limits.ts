import type { DmrErrorCode, Logger } from '@dmr/shared';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { RateWindow } from '../auth/index.js';
import type { GatewayLimits } from '../config/index.js';
import type { ServerMetrics } from '../obs/index.js';

/** A Socket.IO namespace middleware. */
export type Middleware = (socket: Socket, next: (error?: Error) => void) => void;

const MINUTE_MS = 60_000;

/**
 * Engine options for connections that have not authenticated yet: small frames and a short life.
 * `maxHttpBufferSize` is the engine.io limit of every websocket frame and polling body; it stays small until a
 * namespace handshake succeeds ({@link ConnectionLimits.guard} raises it per connection), so an unauthenticated
 * peer cannot make the server buffer a full-size message. `connectTimeout` closes a connection that joined no
 * namespace in time: idle, or refused and lingering.
 */
export function preAuthServerOptions(limits: GatewayLimits, authenticatedMaxBytes: number): Partial<ServerOptions> {
  return { maxHttpBufferSize: Math.min(limits.preAuthMaxBytes, authenticatedMaxBytes), connectTimeout: limits.preAuthTimeoutMs };
}

/**
 * Handshake limits and the per-connection frame limit (issue 15, finding 15):
 * - failed handshakes per remote address per minute: beyond the limit the address is refused before its token is
 *   verified (only authentication failures count, so agents behind one address are not locked out by a broker outage);
 * - accepted handshakes per agent id per minute: each costs a full agent list, so a leaked or looping agent cannot
 *   make the server send it thousands;
 * - the main namespace `/` refuses everyone: joining it would count as "joined a namespace" and keep an
 *   unauthenticated connection open past `connectTimeout`.
 * Refusals carry `data.code` DMR_AUTH_RATE_LIMITED, are logged and counted in `dmr_socket_errors_total`.
 */
export class ConnectionLimits {
  readonly #failuresByAddress: RateWindow;
  readonly #handshakesByAgent: RateWindow;

  constructor(
    io: Server,
    private readonly authenticatedMaxBytes: number,
    limits: GatewayLimits,
    private readonly deps: { readonly metrics: ServerMetrics; readonly log: Logger },
    now: () => number = Date.now,
  ) {
    this.#failuresByAddress = new RateWindow(limits.handshakeFailuresPerAddressPerMinute, MINUTE_MS, now);
    this.#handshakesByAgent = new RateWindow(limits.handshakesPerAgentPerMinute, MINUTE_MS, now);
    io.of('/').use((_socket, next) =>
      next(refusal('DMR_AUTH_TOKEN_MISSING', 'the main namespace is closed; agents use /v1/dmr-agent-events')),
    );
  }

  /** Wraps the authenticating middleware with the address and agent limits; raises the frame limit of admitted connections. */
  guard(authenticate: Middleware): Middleware {
    return (socket, next) => {
      const address = socket.handshake.address;
      if (this.#failuresByAddress.isExhausted(address)) {
        const seconds = Math.ceil(this.#failuresByAddress.retryAfterMs(address) / 1000);
        next(this.#refuse(`too many failed handshakes from this address; retry in ${seconds} s`, { address }));
        return;
      }
      authenticate(socket, (error) => {
        if (error) {
          if (isAuthenticationFailure(error)) this.#failuresByAddress.hit(address);
          next(error);
          return;
        }
        const agentId = String(socket.data.agentId);
        if (!this.#handshakesByAgent.hit(agentId)) {
          const seconds = Math.ceil(this.#handshakesByAgent.retryAfterMs(agentId) / 1000);
          next(
            this.#refuse(`too many handshakes of this agent in the last minute (DMR_HANDSHAKE_RATE_PER_AGENT); retry in ${seconds} s`, {
              agentId,
              address,
            }),
          );
          return;
        }
        admitFullFrames(socket.conn, this.authenticatedMaxBytes, this.deps.log);
        next();
      });
    };
  }

  #refuse(reason: string, fields: Record<string, string>): Error {
    this.deps.metrics.socketErrorsTotal.inc({ code: 'DMR_AUTH_RATE_LIMITED' });
    this.deps.log.warn({ code: 'DMR_AUTH_RATE_LIMITED', reason, ...fields }, 'agent handshake refused');
    return refusal('DMR_AUTH_RATE_LIMITED', reason);
  }
}

function refusal(code: DmrErrorCode, reason: string): Error {
  return Object.assign(new Error(reason), { data: { code } });
}

/** A refusal of the peer's credentials (token, agent, certificate), as opposed to "server unavailable" refusals. */
function isAuthenticationFailure(error: Error): boolean {
  const code: unknown = (error as Error & { data?: { code?: unknown } }).data?.code;
  return typeof code === 'string' && code.startsWith('DMR_AUTH_');
}

/** The engine.io connection under a namespace socket (its transport changes on upgrade). */
type EngineConnection = Socket['conn'];

const admitted = new WeakSet<EngineConnection>();

/**
 * Lets an authenticated connection send full-size frames: raises the polling body limit and the websocket
 * receiver's payload limit of its transport, now and after a later upgrade (polling → websocket).
 * engine.io sets both once per transport from `maxHttpBufferSize` and offers no per-connection setting, so this
 * reaches into `ws`'s receiver (`_maxPayload`, ws 8). If that field ever moves, authenticated agents keep the small
 * pre-authentication limit (fail-safe: their large messages are refused, which the e2e limits test catches).
 */
export function admitFullFrames(conn: EngineConnection, maxBytes: number, log: Logger): void {
  if (admitted.has(conn)) return;
  admitted.add(conn);
  const raise = (transport: unknown): void => {
    if (!raiseTransportLimit(transport, maxBytes))
      log.error('cannot raise the frame limit of an authenticated connection (engine.io/ws internals changed)');
  };
  raise(conn.transport);
  conn.on('upgrade', raise);
}

function raiseTransportLimit(transport: unknown, maxBytes: number): boolean {
  const candidate = transport as { name?: string; maxHttpBufferSize?: number; socket?: { _receiver?: { _maxPayload?: number } } };
  if (candidate.name === 'polling') {
    candidate.maxHttpBufferSize = maxBytes;
    return true;
  }
  const receiver = candidate.socket?._receiver;
  if (candidate.name === 'websocket' && receiver && typeof receiver._maxPayload === 'number') {
    receiver._maxPayload = maxBytes;
    return true;
  }
  return false;
}
