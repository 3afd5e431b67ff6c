// When a certificate may renew itself (POST /v1/renew): it must be one this control plane issued, unrevoked and
// unexpired, and the CSR must keep its key pair (docs/control-plane.md, "Certificates"). Pure.

import type { CertificateIdentity } from './identity.js';
import { type CertRefusal, certRefusal } from './refusal.js';

/** What renewal needs to know about the caller's current certificate, as the store recorded it. */
export interface RenewingCertificate {
  readonly serial: string;
  readonly subjectKind: string;
  readonly subjectId: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly revokedAt: string | null;
  readonly publicKeySha256: string;
}

/** Codes of a refused renewal. */
export type RenewalRefusalCode =
  | 'DMR_CONTROL_CERTIFICATE_UNKNOWN'
  | 'DMR_CONTROL_CERTIFICATE_REVOKED'
  | 'DMR_CONTROL_CERTIFICATE_EXPIRED'
  | 'DMR_CONTROL_RENEWAL_KEY_CHANGED';

/** The kinds that renew themselves over mTLS; admin certificates are issued by hand (dmrctl) and do not. */
const RENEWABLE_KINDS: readonly string[] = ['agent', 'server', 'relay-user'];

/**
 * The identity the caller's certificate may renew, or why not: unknown to this control plane or of a kind that does
 * not renew (`DMR_CONTROL_CERTIFICATE_UNKNOWN`), revoked, or outside its validity at `now`.
 */
export function checkRenewingCertificate(
  record: RenewingCertificate | undefined,
  now: Date,
): { readonly ok: true; readonly value: CertificateIdentity } | CertRefusal<RenewalRefusalCode> {
  if (record === undefined || !RENEWABLE_KINDS.includes(record.subjectKind)) {
    return certRefusal(
      'DMR_CONTROL_CERTIFICATE_UNKNOWN',
      'the client certificate was not issued by this control plane for an agent or server',
    );
  }
  if (record.revokedAt !== null) return certRefusal('DMR_CONTROL_CERTIFICATE_REVOKED', `certificate ${record.serial} is revoked`);
  const at = now.getTime();
  if (at < Date.parse(record.notBefore) || at >= Date.parse(record.notAfter)) {
    return certRefusal(
      'DMR_CONTROL_CERTIFICATE_EXPIRED',
      `certificate ${record.serial} is not valid now (${record.notBefore} – ${record.notAfter})`,
    );
  }
  return { ok: true, value: { kind: record.subjectKind as CertificateIdentity['kind'], id: record.subjectId } };
}

/**
 * Refuses a renewal CSR with another key than the current certificate's (`DMR_CONTROL_RENEWAL_KEY_CHANGED`, naming
 * `csr`): renewal keeps the key pair so queued messages stay decryptable and servers see no re-key. A new key pair
 * is a rotation: an operator issues an enrollment token (or POSTs the CSR to /v1/certificates) instead.
 */
export function checkSameKey(currentSha256: string, requestedSha256: string): CertRefusal<'DMR_CONTROL_RENEWAL_KEY_CHANGED'> | undefined {
  if (currentSha256 === requestedSha256) return undefined;
  return certRefusal(
    'DMR_CONTROL_RENEWAL_KEY_CHANGED',
    'the CSR carries another public key than the certificate being renewed; renewal keeps the key pair (a new key needs an enrollment token)',
    'csr',
  );
}
