import { createHash } from 'node:crypto';
import { type DmrErrorCode, toDmrError } from '../errors.js';
import { type CrlSnapshot, certificatesOf, readCrlFromCas } from './crl.js';
import { formatPemBlock, pemBlocks } from './pem-bundle.js';
import type { x509 } from './x509.js';

/** A trusted CA as a CRL's issuer: its name and the SHA-256 of its public key (two CAs of a change-over may share a name). */
export interface CaIdentity {
  readonly subject: string;
  /** Hex SHA-256 of the CA certificate's SubjectPublicKeyInfo. */
  readonly keyId: string;
}

/** One CRL of a bundle that verified against a CA of the trust bundle. */
export interface VerifiedCrl {
  /** The CRL alone, in canonical PEM (`X509 CRL` label, which OpenSSL requires). */
  readonly pem: string;
  readonly ca: CaIdentity;
  readonly snapshot: CrlSnapshot;
}

/** One block of a CRL bundle: verified, or refused with the reason (its `pem` kept so a repeat is recognised). */
export type CrlBundleEntry =
  | { readonly ok: true; readonly crl: VerifiedCrl }
  | { readonly ok: false; readonly index: number; readonly pem: string; readonly code: DmrErrorCode; readonly reason: string };

/** The CAs of a PEM trust bundle (`DMR_TLS_CA_FILE`). Throws DMR_CA_CERT_INVALID when it holds no certificate. */
export function trustedCas(caBundlePem: string): CaIdentity[] {
  return certificatesOf(caBundlePem).map(caIdentityOf);
}

/** The identity of one CA certificate. */
export function caIdentityOf(certificate: x509.X509Certificate): CaIdentity {
  return { subject: certificate.subject, keyId: createHash('sha256').update(new Uint8Array(certificate.publicKey.rawData)).digest('hex') };
}

/**
 * The CRLs of a bundle as DMR publishes it (`GET /v1/crl`, `DMR_TLS_CRL_FILE`: one CRL per trusted CA, PEM blocks
 * labelled `X509 CRL` or `CRL`, concatenated), or one DER CRL. Each block is verified on its own against the CA of
 * `caBundlePem` it names and whose key signed it, so one bad block never hides the good ones. Throws only when
 * `caBundlePem` holds no certificate (DMR_CA_CERT_INVALID); a bundle without any CRL block yields one refused entry.
 */
export async function readCrlBundle(bundle: string | Uint8Array, caBundlePem: string): Promise<CrlBundleEntry[]> {
  const cas = certificatesOf(caBundlePem);
  const blocks = crlBlocksOf(bundle);
  if (blocks.length === 0) return [{ ok: false, index: 0, pem: '', code: 'DMR_CA_CRL_INVALID', reason: 'the CRL bundle holds no CRL' }];
  return Promise.all(blocks.map((pem, index) => verifyBlock(pem, index, cas)));
}

async function verifyBlock(pem: string, index: number, cas: readonly x509.X509Certificate[]): Promise<CrlBundleEntry> {
  try {
    const { snapshot, issuer } = await readCrlFromCas(pem, cas);
    return { ok: true, crl: { pem, ca: caIdentityOf(issuer), snapshot } };
  } catch (error) {
    const failure = toDmrError(error, 'DMR_CA_CRL_INVALID');
    return { ok: false, index, pem, code: failure.code, reason: failure.message };
  }
}

/** Each CRL of `bundle` in canonical PEM; a DER input (first byte SEQUENCE) is one CRL. */
function crlBlocksOf(bundle: string | Uint8Array): string[] {
  const bytes = typeof bundle === 'string' ? Buffer.from(bundle, 'utf8') : Buffer.from(bundle);
  if (bytes[0] === 0x30) return [formatPemBlock({ label: 'X509 CRL', base64: bytes.toString('base64') })];
  return pemBlocks(bytes.toString('utf8'))
    .filter((block) => block.label === 'X509 CRL' || block.label === 'CRL')
    .map((block) => (block.base64 === '' ? '' : formatPemBlock({ label: 'X509 CRL', base64: block.base64 })));
}
