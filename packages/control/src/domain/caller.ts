// Judging the caller of an admin route from the client certificate TLS saw. Pure: the TLS layer verified the chain
// against DMR_TLS_CA_FILE (or did not, and says why); revocation is asked of a port by the I/O shell afterwards.

import { normaliseSerial } from '@dmr/shared/base';
import { type Access, type CallerIdentity, identityFromSubjectAltName, isAllowed } from './roles.js';

/** OID of the clientAuth extended key usage. */
export const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** What the TLS layer knows of the client certificate of one request. */
export interface PresentedCertificate {
  /** Whether OpenSSL verified the chain to a CA of DMR_TLS_CA_FILE (and the validity dates). */
  readonly isVerified: boolean;
  /** OpenSSL's reason when not verified (`CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …). */
  readonly verifyError?: string | undefined;
  /** Node's subjectAltName text. */
  readonly subjectAltName?: string | undefined;
  /** Extended key usage OIDs; undefined when the certificate has no EKU extension. */
  readonly extendedKeyUsage?: readonly string[] | undefined;
  /** Serial number in any common hex spelling. */
  readonly serialNumber: string;
}

/** An authenticated caller: who, in which role, and the serial of the certificate that proved it. */
export interface Caller extends CallerIdentity {
  /** Canonical lowercase hex serial. */
  readonly serial: string;
}

/** Who a refused caller claimed to be, for the change log: the SAN identity when readable, else `anonymous`. */
export interface RefusedCaller {
  readonly subject: string;
  readonly role: string;
}

/** A refusal of the caller as a value. */
export interface CallerRefusal {
  readonly ok: false;
  readonly code: 'DMR_CONTROL_CERTIFICATE_REQUIRED' | 'DMR_CONTROL_ROLE_FORBIDDEN';
  readonly message: string;
  readonly claimed: RefusedCaller;
}

/** The caller, or why it is refused. */
export type CallerJudgement = { readonly ok: true; readonly caller: Caller } | CallerRefusal;

const ANONYMOUS: RefusedCaller = { subject: 'anonymous', role: 'none' };

/**
 * Authenticates: a certificate must be present, verified by TLS, usable for client authentication and carry exactly
 * one DMR identity (`urn:dmr:role:<role>:<person>`, `urn:dmr:server:<name>` or `urn:dmr:agent:<id>`). Anything else
 * is `DMR_CONTROL_CERTIFICATE_REQUIRED` (401). Revocation is checked afterwards by the caller (I/O).
 */
export function authenticate(certificate: PresentedCertificate | undefined): CallerJudgement {
  if (certificate === undefined) return refuseCertificate('no client certificate was presented', ANONYMOUS);
  const identity = identityFromSubjectAltName(certificate.subjectAltName);
  const claimed = identity ? { subject: identity.uri, role: identity.role } : ANONYMOUS;
  if (!certificate.isVerified) {
    return refuseCertificate(`the client certificate is not trusted (${certificate.verifyError ?? 'unverified'})`, claimed);
  }
  const eku = certificate.extendedKeyUsage;
  if (eku !== undefined && !eku.includes(CLIENT_AUTH_OID)) {
    return refuseCertificate('the client certificate is not for client authentication (no clientAuth EKU)', claimed);
  }
  if (identity === undefined) {
    return refuseCertificate('the client certificate names no DMR identity (one urn:dmr:role|server|agent SAN URI)', claimed);
  }
  let serial: string;
  try {
    serial = normaliseSerial(certificate.serialNumber);
  } catch {
    return refuseCertificate('the client certificate has no readable serial number', claimed);
  }
  return { ok: true, caller: { ...identity, serial } };
}

/** Authorises: `DMR_CONTROL_ROLE_FORBIDDEN` (403) unless the caller's role may do `access`. */
export function authorise(caller: Caller, access: Access): CallerJudgement {
  if (isAllowed(caller.role, access)) return { ok: true, caller };
  return {
    ok: false,
    code: 'DMR_CONTROL_ROLE_FORBIDDEN',
    message: `role "${caller.role}" may not use this route (${access})`,
    claimed: { subject: caller.uri, role: caller.role },
  };
}

/** The refusal of a revoked certificate (401, like any certificate that does not prove an identity). */
export function refuseRevoked(caller: Caller): CallerRefusal {
  return refuseCertificate(`the client certificate (serial ${caller.serial}) is revoked`, { subject: caller.uri, role: caller.role });
}

function refuseCertificate(message: string, claimed: RefusedCaller): CallerRefusal {
  return { ok: false, code: 'DMR_CONTROL_CERTIFICATE_REQUIRED', message, claimed };
}
