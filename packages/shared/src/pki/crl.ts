import type { X509Certificate as NodeCertificate } from 'node:crypto';
import { DmrError, type DmrErrorCode } from '../errors.js';
import { pemCertificates } from './pem-bundle.js';
import { normaliseSerial, parseDerInteger } from './serial.js';
import { x509 } from './x509.js';

/** OID of the CRL number extension (RFC 5280 §5.2.3). */
export const CRL_NUMBER_OID = '2.5.29.20';

/** What a relay needs from a CRL: who issued it, its window and number, and the revoked serials (canonical hex). */
export interface CrlSnapshot {
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly crlNumber: bigint | undefined;
  readonly revokedSerials: ReadonlySet<string>;
}

/**
 * Parses a CRL (PEM with either label, or DER) into a {@link CrlSnapshot}. With `issuerCertificatesPem`
 * (one CA certificate or a bundle, as in `DMR_TLS_CA_FILE`) it also checks that a certificate of that file
 * is named as the CRL's issuer and that its key made the CRL's signature, so a forged file can neither
 * revoke (or un-revoke) anyone nor make OpenSSL refuse every client. Throws DMR_CA_CRL_INVALID (or
 * DMR_CA_CERT_INVALID when the CA file has no certificate); the caller keeps its previous CRL.
 */
export async function readCrl(crlPemOrDer: string | Uint8Array, issuerCertificatesPem?: string): Promise<CrlSnapshot> {
  const crl = parseCrl(crlPemOrDer);
  if (issuerCertificatesPem !== undefined) await findIssuer(crl, certificatesOf(issuerCertificatesPem));
  return snapshotOf(crl);
}

/** A CRL verified against one CA of a bundle: its snapshot and the CA that signed it. */
export interface IssuedCrl {
  readonly snapshot: CrlSnapshot;
  readonly issuer: x509.X509Certificate;
}

/**
 * Like {@link readCrl} with a required CA bundle, and also names the CA certificate whose key made the CRL's
 * signature (two CAs of a change-over may share a name; only the key tells them apart). Throws DMR_CA_CRL_INVALID.
 */
export async function readCrlFromCas(crlPemOrDer: string | Uint8Array, cas: readonly x509.X509Certificate[]): Promise<IssuedCrl> {
  const crl = parseCrl(crlPemOrDer);
  const issuer = await findIssuer(crl, cas);
  return { snapshot: snapshotOf(crl), issuer };
}

function parseCrl(crlPemOrDer: string | Uint8Array): x509.X509Crl {
  try {
    return new x509.X509Crl(typeof crlPemOrDer === 'string' ? crlPemOrDer : Uint8Array.from(crlPemOrDer));
  } catch (error) {
    throw new DmrError('DMR_CA_CRL_INVALID', 'the CRL cannot be parsed', { cause: error });
  }
}

function snapshotOf(crl: x509.X509Crl): CrlSnapshot {
  const numberExtension = crl.getExtension(CRL_NUMBER_OID);
  return {
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    crlNumber: numberExtension === null ? undefined : parseDerInteger(new Uint8Array(numberExtension.value)),
    revokedSerials: new Set(crl.entries.map((entry) => normaliseSerial(entry.serialNumber))),
  };
}

/** Every certificate in a PEM text (one certificate or a bundle). Throws DMR_CA_CERT_INVALID when there is none. */
export function certificatesOf(pem: string): x509.X509Certificate[] {
  try {
    // tolerant of bundles concatenated without a newline between files (see pem-bundle.ts)
    const certificates = pemCertificates(pem).map((block) => new x509.X509Certificate(block));
    if (certificates.length > 0) return certificates;
  } catch (error) {
    throw new DmrError('DMR_CA_CERT_INVALID', 'the CA certificate for CRL checking cannot be parsed', { cause: error });
  }
  throw new DmrError('DMR_CA_CERT_INVALID', 'the CA file for CRL checking holds no certificate');
}

async function findIssuer(crl: x509.X509Crl, cas: readonly x509.X509Certificate[]): Promise<x509.X509Certificate> {
  const named = cas.filter((certificate) => certificate.subject === crl.issuer);
  if (named.length === 0) {
    throw new DmrError('DMR_CA_CRL_INVALID', `the CRL was issued by "${crl.issuer}", not by the configured CA`);
  }
  for (const issuer of named) {
    // Stryker disable next-line ArrowFunction: `() => undefined` is as falsy as `() => false`; the same refusal follows
    if (await crl.verify({ publicKey: issuer }).catch(() => false)) return issuer;
  }
  throw new DmrError('DMR_CA_CRL_INVALID', `the CRL signature does not verify with the key of CA "${crl.issuer}"`);
}

/**
 * True when the certificate with `serialHex` (any of Node's, OpenSSL's or canonical forms) is on the CRL.
 * `crl` is a {@link CrlSnapshot} or a set of canonical serials.
 */
export function isCertificateRevoked(serialHex: string, crl: CrlSnapshot | ReadonlySet<string>): boolean {
  const serials = 'revokedSerials' in crl ? crl.revokedSerials : crl;
  return serials.has(normaliseSerial(serialHex));
}

/** True when `cert` (a node:crypto certificate) is on the CRL: the shortcut a server uses to drop live connections. */
export function isPeerRevoked(cert: NodeCertificate, crl: CrlSnapshot | ReadonlySet<string>): boolean {
  return isCertificateRevoked(cert.serialNumber, crl);
}

/** True while `now` lies in the CRL's window; OpenSSL refuses every client certificate outside it. */
export function isCrlCurrent(crl: CrlSnapshot, now: Date): boolean {
  const time = now.getTime();
  return crl.thisUpdate.getTime() <= time && (crl.nextUpdate === undefined || time < crl.nextUpdate.getTime());
}

/** Whether a verified CRL may replace the one in force. */
export type CrlSuccession = { readonly ok: true } | { readonly ok: false; readonly code: DmrErrorCode; readonly reason: string };

/**
 * Decides whether `candidate` (already verified by {@link readCrl}) may replace `inForce`. Refused, so the
 * CRL in force stays: a candidate outside its window (OpenSSL would refuse every client with it:
 * DMR_CA_CRL_EXPIRED, DMR_CA_CRL_NOT_YET_VALID) and one older than the CRL in force (lower CRL number,
 * or earlier thisUpdate: a replayed old CRL would un-revoke certificates; DMR_CA_CRL_STALE).
 */
export function judgeCrlSuccession(candidate: CrlSnapshot, inForce: CrlSnapshot | undefined, now: Date): CrlSuccession {
  if (candidate.nextUpdate !== undefined && candidate.nextUpdate.getTime() <= now.getTime()) {
    return { ok: false, code: 'DMR_CA_CRL_EXPIRED', reason: `the CRL expired at ${candidate.nextUpdate.toISOString()}` };
  }
  if (candidate.thisUpdate.getTime() > now.getTime()) {
    return { ok: false, code: 'DMR_CA_CRL_NOT_YET_VALID', reason: `the CRL is valid only from ${candidate.thisUpdate.toISOString()}` };
  }
  if (inForce === undefined) return { ok: true };
  const isLowerNumber = candidate.crlNumber !== undefined && inForce.crlNumber !== undefined && candidate.crlNumber < inForce.crlNumber;
  if (isLowerNumber || candidate.thisUpdate.getTime() < inForce.thisUpdate.getTime()) {
    return {
      ok: false,
      code: 'DMR_CA_CRL_STALE',
      reason: `the CRL (number ${candidate.crlNumber ?? 'none'}, thisUpdate ${candidate.thisUpdate.toISOString()}) is older than the one in force (number ${inForce.crlNumber ?? 'none'}, thisUpdate ${inForce.thisUpdate.toISOString()})`,
    };
  }
  return { ok: true };
}

/** How the CRL in force stands: OpenSSL refuses every client certificate while it is `expired` or `not-yet-valid`. */
export type CrlHealth = 'none' | 'current' | 'expiring' | 'expired' | 'not-yet-valid';

/** The {@link CrlHealth} of `crl` at `now`; `expiring` when nextUpdate is at most `warnBeforeMs` away. */
export function crlHealth(crl: CrlSnapshot | undefined, now: Date, warnBeforeMs: number): CrlHealth {
  if (crl === undefined) return 'none';
  const time = now.getTime();
  if (crl.thisUpdate.getTime() > time) return 'not-yet-valid';
  if (crl.nextUpdate === undefined) return 'current';
  if (crl.nextUpdate.getTime() <= time) return 'expired';
  return crl.nextUpdate.getTime() - time <= warnBeforeMs ? 'expiring' : 'current';
}
