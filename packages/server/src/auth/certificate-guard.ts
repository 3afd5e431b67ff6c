import type { PeerCertificate } from 'node:tls';
import { agentIdFromSubjectAltName, type DmrErrorCode } from '@dmr/shared';
// the CRL's serials are canonicalised by the same function (Node prints serials in upper case, the CRL in lower case)
import { normaliseSerial } from '@dmr/shared/pki';

/** Why a certificate is not (or no longer) acceptable. */
export type CertificateVerdict =
  | { readonly ok: true; readonly agentId: string }
  | { readonly ok: false; readonly code: DmrErrorCode; readonly reason: string };

/** What TLS tells about a connection's client certificate. */
export interface PeerIdentity {
  readonly certificate:
    | (Pick<PeerCertificate, 'subjectaltname' | 'serialNumber' | 'valid_to'> & { readonly subject?: PeerCertificate['subject'] })
    | undefined;
  /** Whether OpenSSL verified the chain against the agent CA (and the CRL in the TLS context). */
  readonly isAuthorized: boolean;
  readonly authorizationError: string | undefined;
  /**
   * SHA-256 fingerprints of the CA certificates TLS chained the certificate to (issuer first), when known: a live
   * session is judged again after a CA change-over, and one whose chain holds no CA trusted now is cut.
   */
  readonly chainFingerprints?: readonly string[];
}

const TLS_ERROR_CODES: Readonly<Record<string, DmrErrorCode>> = {
  CERT_REVOKED: 'DMR_AUTH_CERTIFICATE_REVOKED',
  CERT_HAS_EXPIRED: 'DMR_AUTH_CERTIFICATE_EXPIRED',
};

/**
 * Pure check of a peer: verified by TLS, not revoked, not expired, bound to exactly one agent id. Codes:
 * DMR_AUTH_CERTIFICATE_MISSING (none presented), DMR_AUTH_CERTIFICATE_UNTRUSTED (presented, not verified; or, with
 * `trustedCas` (SHA-256 fingerprints), chained to a CA that is not trusted any more),
 * DMR_AUTH_CERTIFICATE_REVOKED, DMR_AUTH_CERTIFICATE_EXPIRED, DMR_AUTH_CERTIFICATE_MISMATCH (no single agent SAN).
 */
export function judgeCertificate(
  peer: PeerIdentity | undefined,
  revoked: ReadonlySet<string>,
  now: Date,
  trustedCas?: ReadonlySet<string>,
): CertificateVerdict {
  const cert = peer?.certificate;
  if (!peer || !cert?.serialNumber) return { ok: false, code: 'DMR_AUTH_CERTIFICATE_MISSING', reason: 'no client certificate' };
  if (!peer.isAuthorized) {
    // a certificate was presented, so it is not "missing": it did not chain to a CA of DMR_TLS_CA_FILE (a foreign or
    // self-signed issuer, a broken signature, no CRL for its CA); the OpenSSL reason goes into the log line
    const code = TLS_ERROR_CODES[peer.authorizationError ?? ''] ?? 'DMR_AUTH_CERTIFICATE_UNTRUSTED';
    return { ok: false, code, reason: `client certificate not verified: ${peer.authorizationError ?? 'unknown reason'}` };
  }
  const chain = peer.chainFingerprints;
  if (trustedCas && chain && chain.length > 0 && !chain.some((fingerprint) => trustedCas.has(fingerprint))) {
    // verified at its handshake against a CA that has since left DMR_TLS_CA_FILE (retired in a change-over)
    return { ok: false, code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED', reason: 'its issuing CA is no longer trusted (retired)' };
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
