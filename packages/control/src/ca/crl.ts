import type { X509Certificate as NodeCertificate } from 'node:crypto';
import { DmrError } from '@dmr/shared';
import type { RevokedRecord } from './ca-state.js';
import type { CaSigner } from './issue.js';
import { signatureAlgorithmFor } from './keys.js';
import { derInteger, normaliseSerial, parseDerInteger } from './serial.js';
import { x509 } from './x509.js';

/** Default time from one CRL to the next: 7 days. Servers refuse every client once `nextUpdate` has passed, so republish well before. */
export const DEFAULT_CRL_VALIDITY_DAYS = 7;
/** The PEM label Node/OpenSSL accept for a CRL (@peculiar/x509's default `CRL` is refused). */
export const CRL_PEM_LABEL = 'X509 CRL';
/** OID of the CRL number extension (RFC 5280 §5.2.3). */
export const CRL_NUMBER_OID = '2.5.29.20';

/** The window and number of one CRL. */
export interface CrlWindow {
  readonly crlNumber: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/** What a server needs from a CRL file: who issued it, when it expires, and the revoked serials (canonical hex). */
export interface CrlSnapshot {
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly crlNumber: bigint | undefined;
  readonly revokedSerials: ReadonlySet<string>;
}

/**
 * Signs a v2 CRL listing `revoked` (with revocation dates and reason codes), with the CRL number
 * and authority key identifier extensions, and returns it as PEM labelled `X509 CRL`.
 */
export async function buildCrl(ca: CaSigner, revoked: readonly RevokedRecord[], window: CrlWindow): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.certificate.subjectName,
    thisUpdate: window.thisUpdate,
    nextUpdate: window.nextUpdate,
    signingKey: ca.signingKey,
    signingAlgorithm: signatureAlgorithmFor(ca.signingKey),
    extensions: [
      new x509.Extension(CRL_NUMBER_OID, false, derInteger(BigInt(window.crlNumber))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
    entries: [...revoked]
      .sort((a, b) => a.serial.localeCompare(b.serial))
      .map((record) => ({
        serialNumber: record.serial,
        revocationDate: new Date(record.revokedAt),
        reason: x509.X509CrlReason[record.reason],
      })),
  });
  return x509.PemConverter.encode(crl.rawData, CRL_PEM_LABEL);
}

/**
 * Parses a CRL (PEM with either label, or DER) into a {@link CrlSnapshot}. With `issuerCertificatePem`
 * it also checks the CRL names that CA as issuer and carries its valid signature, so a forged file
 * cannot revoke (or un-revoke) anyone. Throws DMR_CA_CRL_INVALID; the caller keeps its previous CRL.
 */
export async function readCrl(crlPemOrDer: string | Uint8Array, issuerCertificatePem?: string): Promise<CrlSnapshot> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(typeof crlPemOrDer === 'string' ? crlPemOrDer : Uint8Array.from(crlPemOrDer));
  } catch (error) {
    throw new DmrError('DMR_CA_CRL_INVALID', 'the CRL cannot be parsed', { cause: error });
  }
  if (issuerCertificatePem !== undefined) await checkIssuer(crl, issuerCertificatePem);
  const numberExtension = crl.getExtension(CRL_NUMBER_OID);
  return {
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    crlNumber: numberExtension === null ? undefined : parseDerInteger(new Uint8Array(numberExtension.value)),
    revokedSerials: new Set(crl.entries.map((entry) => normaliseSerial(entry.serialNumber))),
  };
}

async function checkIssuer(crl: x509.X509Crl, issuerCertificatePem: string): Promise<void> {
  let issuer: x509.X509Certificate;
  try {
    issuer = new x509.X509Certificate(issuerCertificatePem);
  } catch (error) {
    throw new DmrError('DMR_CA_CERT_INVALID', 'the CA certificate for CRL checking cannot be parsed', { cause: error });
  }
  if (issuer.subject !== crl.issuer) {
    throw new DmrError('DMR_CA_CRL_INVALID', `the CRL was issued by "${crl.issuer}", not by "${issuer.subject}"`);
  }
  const isSigned = await crl.verify({ publicKey: issuer }).catch(() => false);
  if (!isSigned) throw new DmrError('DMR_CA_CRL_INVALID', 'the CRL signature does not verify with the CA certificate');
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
