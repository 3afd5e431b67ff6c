import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { PeerCertificate } from 'node:tls';
import { agentIdFromSubjectAltName, type DmrErrorCode, type Logger, toDmrError } from '@dmr/shared';
import { cryptoProvider, X509Crl } from '@peculiar/x509';
import type { TlsConfig } from '../config/index.js';

cryptoProvider.set(webcrypto as unknown as Parameters<typeof cryptoProvider.set>[0]);

/** Why a certificate is not (or no longer) acceptable. */
export type CertificateVerdict =
  | { readonly ok: true; readonly agentId: string }
  | { readonly ok: false; readonly code: DmrErrorCode; readonly reason: string };

/** What the guard tells the rest of the server when the CRL in force changes. */
export interface CertificateGuardHooks {
  /** New connections: reload the TLS context with this CRL. */
  readonly applyCrl: (crlPem: string) => void;
  /** Live connections: re-check them now. */
  readonly recheck: () => void;
}

/** Serial numbers as Node and x509 print them differ in case and leading zeros; compare them normalised. */
export function normaliseSerial(serial: string): string {
  return serial.replace(/^0+/, '').toLowerCase();
}

/** What TLS tells about a connection's client certificate. */
export interface PeerIdentity {
  readonly certificate: Pick<PeerCertificate, 'subjectaltname' | 'serialNumber' | 'valid_to'> | undefined;
  /** Whether OpenSSL verified the chain against the agent CA (and the CRL in the TLS context). */
  readonly isAuthorized: boolean;
  readonly authorizationError: string | undefined;
}

const TLS_ERROR_CODES: Readonly<Record<string, DmrErrorCode>> = {
  CERT_REVOKED: 'DMR_AUTH_CERTIFICATE_REVOKED',
  CERT_HAS_EXPIRED: 'DMR_AUTH_CERTIFICATE_EXPIRED',
};

/** Pure check of a peer: verified by TLS, not revoked, not expired, bound to exactly one agent id. */
export function judgeCertificate(peer: PeerIdentity | undefined, revoked: ReadonlySet<string>, now: Date): CertificateVerdict {
  const cert = peer?.certificate;
  if (!peer || !cert?.serialNumber) return { ok: false, code: 'DMR_AUTH_CERTIFICATE_MISSING', reason: 'no client certificate' };
  if (!peer.isAuthorized) {
    const code = TLS_ERROR_CODES[peer.authorizationError ?? ''] ?? 'DMR_AUTH_CERTIFICATE_MISSING';
    return { ok: false, code, reason: `client certificate not verified: ${peer.authorizationError ?? 'unknown reason'}` };
  }
  if (revoked.has(normaliseSerial(cert.serialNumber))) {
    return { ok: false, code: 'DMR_AUTH_CERTIFICATE_REVOKED', reason: `certificate ${cert.serialNumber} is revoked` };
  }
  if (Date.parse(cert.valid_to) <= now.getTime()) {
    return { ok: false, code: 'DMR_AUTH_CERTIFICATE_EXPIRED', reason: `certificate expired at ${cert.valid_to}` };
  }
  const agentId = cert.subjectaltname ? agentIdFromSubjectAltName(cert.subjectaltname) : undefined;
  if (!agentId) return { ok: false, code: 'DMR_AUTH_CERTIFICATE_MISMATCH', reason: 'certificate has no single urn:dmr:agent SAN URI' };
  return { ok: true, agentId };
}

/**
 * Keeps the CRL in force: re-reads the CRL file on an interval (revocation bites within one interval plus
 * the live re-check), feeds new connections through the TLS context and live ones through `recheck`.
 * A CRL that fails to parse is refused and the previous one stays in force. Expiry of live certificates
 * is caught by the same periodic re-check.
 */
export class CertificateGuard {
  #revoked: ReadonlySet<string> = new Set();
  #crlPem: string | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: TlsConfig,
    private readonly hooks: CertificateGuardHooks,
    private readonly log: Logger,
  ) {}

  /** Serials on the CRL in force. */
  get revoked(): ReadonlySet<string> {
    return this.#revoked;
  }

  /** The CRL PEM in force, for the initial TLS context. */
  get crlPem(): string | undefined {
    return this.#crlPem;
  }

  /** Loads the CRL once (throws if the configured file is unreadable at start), then polls. */
  async start(): Promise<void> {
    if (this.config.crlFile) {
      const pem = await readFile(this.config.crlFile, 'utf8');
      this.#apply(pem);
    }
    this.#timer = setInterval(() => void this.#tick(), this.config.crlReloadIntervalMs);
    this.#timer.unref();
  }

  /** Stops polling. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Judges a connection's peer now. */
  judge(peer: PeerIdentity | undefined): CertificateVerdict {
    return judgeCertificate(peer, this.#revoked, new Date());
  }

  async #tick(): Promise<void> {
    if (this.config.crlFile) {
      try {
        const pem = await readFile(this.config.crlFile, 'utf8');
        if (pem !== this.#crlPem) {
          this.#apply(pem);
          this.hooks.applyCrl(pem);
          this.log.info({ revoked: this.#revoked.size }, 'CRL reloaded');
        }
      } catch (error) {
        this.log.error({ err: toDmrError(error) }, 'CRL reload failed; the previous CRL stays in force');
      }
    }
    this.hooks.recheck();
  }

  #apply(pem: string): void {
    const crl = new X509Crl(pem);
    this.#revoked = new Set(crl.entries.map((entry) => normaliseSerial(entry.serialNumber)));
    this.#crlPem = pem;
  }
}
