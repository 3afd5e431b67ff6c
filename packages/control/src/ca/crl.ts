import { CRL_NUMBER_OID, withFinalNewline } from '@dmr/shared/pki';
import type { CaSigner } from './issue.js';
import { signatureAlgorithmFor } from './keys.js';
import { derInteger } from './serial.js';
import { x509 } from './x509.js';

/** Default time from one CRL to the next: 7 days. Servers refuse every client once `nextUpdate` has passed, so republish well before. */
export const DEFAULT_CRL_VALIDITY_DAYS = 7;
/** The PEM label Node/OpenSSL accept for a CRL (@peculiar/x509's default `CRL` is refused). */
export const CRL_PEM_LABEL = 'X509 CRL';
// Reading and checking a CRL is shared with the server, which must verify the CRL it enforces without depending on
// the control plane: see @dmr/shared/pki.
export {
  CRL_NUMBER_OID,
  type CrlSnapshot,
  isCertificateRevoked,
  isCrlCurrent,
  isPeerRevoked,
  readCrl,
} from '@dmr/shared/pki';

/** An RFC 5280 CRLReason name (`removeFromCRL` excepted: delta CRLs only). */
export type CrlReasonName = Exclude<keyof typeof x509.X509CrlReason, 'removeFromCRL'>;

/** One revoked certificate as a CRL lists it: canonical hex serial, ISO revocation time, reason. */
export interface CrlEntry {
  readonly serial: string;
  readonly revokedAt: string;
  readonly reason: CrlReasonName;
}

/** The window and number of one CRL. */
export interface CrlWindow {
  readonly crlNumber: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/**
 * Signs a v2 CRL listing `revoked` (with revocation dates and reason codes), with the CRL number
 * and authority key identifier extensions, and returns it as PEM labelled `X509 CRL`, ending with a newline.
 */
export async function buildCrl(ca: CaSigner, revoked: readonly CrlEntry[], window: CrlWindow): Promise<string> {
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
  return withFinalNewline(x509.PemConverter.encode(crl.rawData, CRL_PEM_LABEL));
}
