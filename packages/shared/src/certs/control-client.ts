import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { DmrError, type DmrErrorCode } from '../errors.js';
import { pemCertificates } from '../pki/pem-bundle.js';

/** What dmr-control answers `POST /v1/enroll` and `POST /v1/renew` with (docs/control-plane.md). */
export interface IssuedCertificate {
  /** PEM of the new certificate (a chain is allowed; the leaf comes first). */
  readonly certificate: string;
  /** PEM bundle of the CA certificates to trust (old + new during a change-over); '' when the answer has none. */
  readonly caCertificates: string;
}

/** How to reach dmr-control: its base URL and the CA of its TLS certificate (PEM; undefined = Node's default CAs). */
export interface ControlTarget {
  readonly url: string;
  readonly ca: string | undefined;
  /** Per-request deadline, ms (default 30 s). */
  readonly timeoutMs?: number;
}

/** The client certificate a renewal is authenticated with: the one being renewed. */
export interface ClientIdentity {
  readonly certificate: string;
  readonly key: string;
}

/** dmr-control's refusal, as far as it said: its HTTP status and its code (`DMR_CONTROL_TOKEN_USED`, …). */
export interface ControlRefusal {
  readonly statusCode: number;
  readonly controlCode: string | undefined;
}

/** A DmrError that also carries dmr-control's refusal (status and code) for callers that branch on it. */
export class ControlError extends DmrError {
  readonly refusal: ControlRefusal | undefined;

  constructor(code: DmrErrorCode, message: string, refusal?: ControlRefusal, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.refusal = refusal;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
// an answer carrying a certificate chain and a CA bundle fits easily; anything bigger is not dmr-control's
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * `POST /v1/enroll {token, csr}` (no client certificate: the one-time token authenticates). Throws ControlError:
 * DMR_CERT_ENROLLMENT_REFUSED (4xx; `refusal.controlCode` says why), DMR_CERT_CONTROL_UNREACHABLE (network, TLS,
 * 5xx, timeout), DMR_CERT_RESPONSE_INVALID (2xx without a certificate).
 */
export function enrollAtControl(target: ControlTarget, token: string, csr: string): Promise<IssuedCertificate> {
  return postForCertificate(target, '/v1/enroll', { token, csr }, undefined, 'DMR_CERT_ENROLLMENT_REFUSED');
}

/**
 * `POST /v1/renew {csr}` over mTLS with the certificate being renewed; or, with `certificate` (a server renewing the
 * relay user's RabbitMQ certificate), `{csr, certificate}` over mTLS with the server's own certificate as `client`.
 * Throws ControlError: DMR_CERT_RENEWAL_REFUSED (4xx), DMR_CERT_CONTROL_UNREACHABLE, DMR_CERT_RESPONSE_INVALID.
 */
export function renewAtControl(
  target: ControlTarget,
  csr: string,
  client: ClientIdentity,
  certificate?: string,
): Promise<IssuedCertificate> {
  const body = certificate === undefined ? { csr } : { csr, certificate };
  return postForCertificate(target, '/v1/renew', body, client, 'DMR_CERT_RENEWAL_REFUSED');
}

async function postForCertificate(
  target: ControlTarget,
  path: string,
  body: object,
  client: ClientIdentity | undefined,
  refusedCode: DmrErrorCode,
): Promise<IssuedCertificate> {
  const { statusCode, text } = await postJson(target, path, body, client);
  if (statusCode >= 200 && statusCode < 300) return parseIssued(text, path);
  const { code: controlCode, message } = errorBodyOf(text);
  const said = `${controlCode ?? `HTTP ${statusCode}`}${message ? `: ${message}` : ''}`;
  if (statusCode >= 500 || statusCode === 429) {
    throw new ControlError('DMR_CERT_CONTROL_UNREACHABLE', `dmr-control failed ${path} (${said})`, { statusCode, controlCode });
  }
  throw new ControlError(refusedCode, `dmr-control refused ${path}: ${said}`, { statusCode, controlCode });
}

/** The trusted CA bundle as dmr-control serves it (`GET /v1/ca-certificates`). */
export interface CaBundle {
  /** The PEM bundle, one block per CA (old and new during a change-over). */
  readonly pem: string;
  /** SHA-256 fingerprint of the CA that signs now (`X-DMR-Active-CA`, upper-case hex with colons); undefined when not said. */
  readonly activeCaSha256: string | undefined;
}

/** Header of `GET /v1/ca-certificates` naming the signing CA by its SHA-256 fingerprint (as Node prints `fingerprint256`). */
export const ACTIVE_CA_HEADER = 'x-dmr-active-ca';

/**
 * `GET /v1/ca-certificates` (no client certificate: the bundle is public, dmr-control's own TLS certificate is verified
 * against `target.ca`). Throws ControlError: DMR_CERT_CONTROL_UNREACHABLE (network, TLS, a non-2xx answer),
 * DMR_CERT_RESPONSE_INVALID (an answer without a certificate: an empty trust bundle is never put in force).
 */
export async function fetchCaBundle(target: ControlTarget): Promise<CaBundle> {
  const path = '/v1/ca-certificates';
  const { statusCode, text, headers } = await exchange(target, 'GET', path, undefined, undefined);
  if (statusCode < 200 || statusCode >= 300) {
    throw new ControlError('DMR_CERT_CONTROL_UNREACHABLE', `dmr-control answered ${path} with HTTP ${statusCode}`, {
      statusCode,
      controlCode: errorBodyOf(text).code,
    });
  }
  const pem = pemCertificates(text).join('');
  if (pem === '') throw new ControlError('DMR_CERT_RESPONSE_INVALID', `dmr-control answered ${path} without a PEM certificate`);
  const active = headers[ACTIVE_CA_HEADER];
  return { pem, activeCaSha256: typeof active === 'string' && /^[0-9A-F:]{95}$/i.test(active) ? active.toUpperCase() : undefined };
}

function postJson(target: ControlTarget, path: string, body: object, client: ClientIdentity | undefined) {
  return exchange(target, 'POST', path, Buffer.from(JSON.stringify(body)), client);
}

function exchange(
  target: ControlTarget,
  method: 'GET' | 'POST',
  path: string,
  payload: Buffer | undefined,
  client: ClientIdentity | undefined,
) {
  const url = new URL(`${target.url.replace(/\/+$/, '')}${path}`);
  const headers: Record<string, string | number> =
    payload === undefined
      ? { accept: '*/*' }
      : { 'content-type': 'application/json', 'content-length': payload.length, accept: 'application/json' };
  return new Promise<{ statusCode: number; text: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers,
        ...(target.ca === undefined ? {} : { ca: pemCertificates(target.ca) }),
        ...(client ? { cert: client.certificate, key: client.key } : {}),
        timeout: target.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        // a fresh connection per call: a pooled one would keep the client certificate of before a renewal
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () =>
          resolve({ statusCode: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: response.headers }),
        );
        response.on('error', (error) => reject(unreachable(path, error)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${target.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)));
    req.on('error', (error) => reject(unreachable(path, error)));
    req.end(payload);
  });
}

function unreachable(path: string, error: Error): ControlError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ControlError(
    'DMR_CERT_CONTROL_UNREACHABLE',
    `dmr-control ${path} failed: ${error.message}${code ? ` (${code})` : ''}`,
    undefined,
    error,
  );
}

function parseIssued(text: string, path: string): IssuedCertificate {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ControlError('DMR_CERT_RESPONSE_INVALID', `dmr-control answered ${path} with something that is not JSON`);
  }
  const { certificate, caCertificates } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof certificate !== 'string' || pemCertificates(certificate).length === 0) {
    throw new ControlError('DMR_CERT_RESPONSE_INVALID', `dmr-control answered ${path} without a PEM certificate`);
  }
  return { certificate, caCertificates: caBundleOf(caCertificates) };
}

/** `caCertificates` as one PEM bundle: a string bundle as it is, an array of PEM strings joined; anything else ''. */
function caBundleOf(value: unknown): string {
  if (typeof value === 'string') return pemCertificates(value).join('');
  if (Array.isArray(value)) return value.flatMap((entry) => (typeof entry === 'string' ? pemCertificates(entry) : [])).join('');
  return '';
}

function errorBodyOf(text: string): { code: string | undefined; message: string | undefined } {
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    return {
      code: typeof body.code === 'string' ? body.code.slice(0, 100) : undefined,
      message: typeof body.message === 'string' ? body.message.slice(0, 300) : undefined,
    };
  } catch {
    return { code: undefined, message: text.slice(0, 200) || undefined };
  }
}
