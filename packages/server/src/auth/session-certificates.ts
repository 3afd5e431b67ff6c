import type { IncomingMessage } from 'node:http';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { DmrErrorCode, Logger } from '@dmr/shared';
import type { CertificateVerdict, PeerIdentity } from './certificate-guard.js';

/** A certificate subject as `CN=a,O=b` (Node's parsed subject, attributes in its order). Pure. */
export function subjectText(subject: Readonly<Record<string, string | readonly string[] | undefined>> | undefined): string {
  if (!subject) return '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(subject)) {
    for (const item of typeof value === 'string' ? [value] : (value ?? [])) parts.push(`${name}=${item}`);
  }
  return parts.join(',');
}

/** The part of engine.io's server the binding uses (Socket.IO's `io.engine`). */
export interface EngineLike {
  /** Adds a middleware that runs on every HTTP request and WebSocket upgrade, before engine.io looks at it. */
  use(middleware: (request: IncomingMessage, response: unknown, next: (error?: Error) => void) => void): void;
  prependListener(event: 'connection', listener: (socket: EngineSocketLike) => void): unknown;
}

/** The part of an engine.io session (socket) the binding uses. */
export interface EngineSocketLike {
  readonly id: string;
  /** The handshake request. */
  readonly request: IncomingMessage;
  once(event: 'close', listener: () => void): unknown;
}

/** What the binding needs from the server. */
export interface SessionCertificateDeps {
  /** Judges one certificate against the CRL in force (the guard's `judge`). */
  readonly judge: (peer: PeerIdentity | undefined) => CertificateVerdict;
  readonly log: Logger;
  /** Counts one refused request by code. */
  readonly onRefused: (code: DmrErrorCode) => void;
}

/** Different certificates one session may present (e.g. a renewal between handshake and upgrade) before it is refused. */
const MAX_PEERS_PER_SESSION = 4;

/**
 * A copy of what TLS told about the client certificate of `transport` (a TLS socket), detached from the socket:
 * a long-polling session's handshake connection may be closed by the time the session is judged again.
 */
export function peerIdentityOf(transport: unknown): PeerIdentity | undefined {
  const tls = transport as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function') return undefined;
  // null once the socket is destroyed, {} when the client sent no certificate
  const certificate = tls.getPeerCertificate() as ReturnType<TLSSocket['getPeerCertificate']> | null;
  const authorizationError = tls.authorizationError === undefined ? undefined : String(tls.authorizationError);
  return {
    certificate: certificate?.serialNumber
      ? {
          serialNumber: certificate.serialNumber,
          subjectaltname: certificate.subjectaltname,
          valid_to: certificate.valid_to,
          subject: certificate.subject,
        }
      : undefined,
    isAuthorized: tls.authorized === true,
    authorizationError,
    ...(tls.authorized === true ? { chainFingerprints: chainFingerprintsOf(tls as TLSSocket) } : {}),
  };
}

/** Most CA certificates above a leaf that are followed (a root plus intermediates; DMR's CAs sign leaves directly). */
const MAX_CHAIN_LENGTH = 6;

/** The SHA-256 fingerprints of the CAs a verified peer certificate chained to, issuer first. */
function chainFingerprintsOf(tls: TLSSocket): string[] {
  const fingerprints: string[] = [];
  let current = tls.getPeerCertificate(true) as DetailedPeerCertificate | null;
  while (current?.issuerCertificate && fingerprints.length < MAX_CHAIN_LENGTH) {
    const issuer: DetailedPeerCertificate = current.issuerCertificate;
    if (issuer.fingerprint256 === undefined) break;
    fingerprints.push(issuer.fingerprint256);
    // a self-signed root is its own issuer
    if (issuer === current || issuer.fingerprint256 === current.fingerprint256) break;
    current = issuer;
  }
  return fingerprints;
}

/**
 * Pure rule for a later request of an engine.io session: its own certificate must pass, and name the agent
 * the session was opened for (a session id alone proves nothing: it travels in URLs and logs).
 */
export function judgeSessionRequest(request: CertificateVerdict, session: CertificateVerdict): CertificateVerdict {
  if (!request.ok) return request;
  if (!session.ok) {
    return { ok: false, code: session.code, reason: `the session's own certificate does not pass: ${session.reason}` };
  }
  if (session.agentId !== request.agentId) {
    return {
      ok: false,
      code: 'DMR_AUTH_CERTIFICATE_MISMATCH',
      reason: `request certificate is for agent ${request.agentId}, the session for agent ${session.agentId}`,
    };
  }
  return request;
}

/**
 * Binds every engine.io request of a session to the client certificate that opened it (issue 15, finding 7).
 * The certificate of the handshake request is copied when the session opens; every later long-polling request
 * and the WebSocket upgrade must carry a certificate that verifies and names the same agent, or engine.io
 * refuses it (HTTP 400, logged with the DMR code). Sessions are judged on these copies, so one that started on
 * long-polling keeps its identity after its first connection closed.
 */
export class SessionCertificates {
  readonly #peers = new WeakMap<object, PeerIdentity[]>();
  readonly #sessions = new Map<string, EngineSocketLike>();

  constructor(private readonly deps: SessionCertificateDeps) {}

  /** Hooks into engine.io: records the handshake's certificate and checks every later request. */
  attach(engine: EngineLike): void {
    // before Socket.IO's own listener, so the copy exists before any packet of the session is handled
    engine.prependListener('connection', (socket) => {
      this.#peers.set(socket, [peerIdentityOf(socket.request.socket)].filter(isPeer));
      this.#sessions.set(socket.id, socket);
      socket.once('close', () => this.#sessions.delete(socket.id));
    });
    engine.use((request, _response, next) => this.#check(request, next));
  }

  /** The verdict on a session (an engine.io socket): every certificate it presented must still pass and name one agent. */
  judgeSession(session: object): CertificateVerdict {
    const peers = this.#peers.get(session) ?? [];
    let first: CertificateVerdict = { ok: false, code: 'DMR_AUTH_CERTIFICATE_MISSING', reason: 'no client certificate' };
    for (const [index, peer] of peers.entries()) {
      const verdict = this.deps.judge(peer);
      if (index === 0) first = verdict;
      const combined = index === 0 ? verdict : judgeSessionRequest(verdict, first);
      if (!combined.ok) return combined;
    }
    return first;
  }

  /**
   * The identity of the certificate that opened `session` (issue 19: the policy input's `sender.certificate`), or
   * null when it presented none.
   */
  identityOf(session: object): { readonly subject: string; readonly serial: string } | null {
    const certificate = this.#peers.get(session)?.[0]?.certificate;
    if (!certificate?.serialNumber) return null;
    return {
      subject: subjectText(certificate.subject as Record<string, string | string[] | undefined> | undefined),
      serial: certificate.serialNumber,
    };
  }

  #check(request: IncomingMessage, next: (error?: Error) => void): void {
    const verdict = this.#judgeRequest(request);
    if (verdict === undefined || verdict.ok) {
      next();
      return;
    }
    this.deps.onRefused(verdict.code);
    this.deps.log.warn({ code: verdict.code, reason: verdict.reason, address: request.socket.remoteAddress }, 'engine.io request refused');
    next(new Error(verdict.reason));
  }

  /** The verdict on one request of a known session; undefined for requests engine.io itself decides on. */
  #judgeRequest(request: IncomingMessage): CertificateVerdict | undefined {
    const sid = sessionIdOf(request);
    // a handshake: the namespace middleware judges the copy taken at 'connection' and answers with the DMR code;
    // an unknown session id: engine.io refuses it
    const session = sid === undefined ? undefined : this.#sessions.get(sid);
    if (session === undefined) return undefined;
    const peer = peerIdentityOf(request.socket);
    const verdict = judgeSessionRequest(this.deps.judge(peer), this.judgeSession(session));
    if (verdict.ok && !this.#remember(session, peer)) {
      return { ok: false, code: 'DMR_AUTH_CERTIFICATE_MISMATCH', reason: `more than ${MAX_PEERS_PER_SESSION} certificates in one session` };
    }
    return verdict;
  }

  /** Adds a passing certificate to the session's list (so the re-check judges it too); false when the list is full. */
  #remember(session: object, peer: PeerIdentity | undefined): boolean {
    const peers = this.#peers.get(session);
    const serial = peer?.certificate?.serialNumber;
    if (!peers || !peer || peers.some((known) => known.certificate?.serialNumber === serial)) return true;
    // bounded: a client cycling certificates cannot grow the list
    if (peers.length >= MAX_PEERS_PER_SESSION) return false;
    peers.push(peer);
    return true;
  }
}

function isPeer(peer: PeerIdentity | undefined): peer is PeerIdentity {
  return peer !== undefined;
}

function sessionIdOf(request: IncomingMessage): string | undefined {
  const query = request.url?.split('?')[1];
  return query === undefined ? undefined : (new URLSearchParams(query).get('sid') ?? undefined);
}
