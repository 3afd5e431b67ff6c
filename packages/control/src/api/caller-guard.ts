import { TLSSocket } from 'node:tls';
import type { Logger } from '@dmr/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type Access,
  authenticate,
  authorise,
  type Caller,
  type CallerJudgement,
  type CallerRefusal,
  type PresentedCertificate,
  refuseRevoked,
} from '../domain/index.js';
import type { ControlStore } from '../store/index.js';
import { sendError } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (domain/roles.ts); every route must say, or it is refused to everyone but admin. */
    access?: Access;
  }
  interface FastifyRequest {
    /** The authenticated caller of a non-public route (set by the caller guard). */
    caller?: Caller;
  }
}

/** What the guard needs. */
export interface CallerGuardDeps {
  readonly store: () => ControlStore;
  /** Whether the certificate with this canonical serial is revoked (the certs helper's port; default: the store's table). */
  readonly isRevoked: (serial: string) => Promise<boolean>;
  /** The client certificate of a request; default: the TLS socket's. Tests using `inject()` pass their own. */
  readonly identify?: (request: FastifyRequest) => PresentedCertificate | undefined;
  readonly log: Logger;
  /** Counts a refusal by code. */
  readonly onRefused?: (code: CallerRefusal['code']) => void;
}

/**
 * The mTLS role guard (onRequest, so a refused caller's body is never read): authenticates the client certificate,
 * checks it is not revoked and that its role may use the route (its `config.access`). A refusal answers 401
 * DMR_CONTROL_CERTIFICATE_REQUIRED or 403 DMR_CONTROL_ROLE_FORBIDDEN and is recorded in the change log.
 */
export function registerCallerGuard(app: FastifyInstance, deps: CallerGuardDeps): void {
  const identify = deps.identify ?? certificateOfSocket;
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access ?? (request.is404 ? 'public' : 'registry:import');
    if (access === 'public') return;
    const judgement = await judge(identify(request), access, deps.isRevoked);
    if (judgement.ok) {
      request.caller = judgement.caller;
      return;
    }
    deps.onRefused?.(judgement.code);
    await recordRefusal(deps, request, judgement);
    await sendError(reply, { statusCode: judgement.code === 'DMR_CONTROL_ROLE_FORBIDDEN' ? 403 : 401, ...judgement });
    return reply;
  });
}

async function judge(
  certificate: PresentedCertificate | undefined,
  access: Access,
  isRevoked: (serial: string) => Promise<boolean>,
): Promise<CallerJudgement> {
  const authenticated = authenticate(certificate);
  if (!authenticated.ok) return authenticated;
  if (await isRevoked(authenticated.caller.serial)) return refuseRevoked(authenticated.caller);
  return authorise(authenticated.caller, access);
}

/** Appends the refusal to the change log in a transaction of its own (it does not bump the configVersion). */
async function recordRefusal(deps: CallerGuardDeps, request: FastifyRequest, refusal: CallerRefusal): Promise<void> {
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
  deps.log.warn({ code: refusal.code, route, actor: refusal.claimed.subject, role: refusal.claimed.role }, 'admin API caller refused');
  try {
    await deps.store().transaction(async (tx) => {
      tx.changes.append({
        actor: refusal.claimed,
        action: 'request.refused',
        subjectKind: 'route',
        subjectId: route.slice(0, 256),
        outcome: 'refused',
        code: refusal.code,
      });
    });
  } catch (error) {
    // the refusal stands even when it cannot be recorded; the log line above keeps the trace
    deps.log.error({ err: error, code: refusal.code, route }, 'could not record a refused request in the change log');
  }
}

/** The client certificate TLS saw on this request's socket (verified or not), or undefined without TLS or certificate. */
export function certificateOfSocket(request: FastifyRequest): PresentedCertificate | undefined {
  const socket = request.raw.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) return undefined;
  return {
    isVerified: socket.authorized,
    verifyError: socket.authorizationError === undefined ? undefined : String(socket.authorizationError),
    subjectAltName: certificate.subjectAltName,
    extendedKeyUsage: certificate.keyUsage,
    serialNumber: certificate.serialNumber,
  };
}
