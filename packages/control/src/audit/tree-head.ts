// Signed tree heads: the message signed, signing with the writer's key, and checking a head against the trusted CAs.

import type { KeyObject } from 'node:crypto';
import { createHash, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';

/** The SAN an audit signing certificate must carry (see ca/profiles.ts auditProfile). */
export const AUDIT_SIGNER_SAN = 'URI:urn:dmr:audit-signer';

/** A signed tree head as stored in `audit_tree_heads`. */
export interface SignedTreeHead {
  readonly size: number;
  /** MTH of the first `size` entries. */
  readonly rootHash: Buffer;
  /** ISO time of signing. */
  readonly signedAt: string;
  /** DER ECDSA (or RSA PKCS#1 v1.5) signature over {@link treeHeadMessage}, SHA-256. */
  readonly signature: Buffer;
  /** SHA-256 (hex) of the signing certificate's DER. */
  readonly keyId: string;
  /** The signing certificate (PEM), issued by the control plane's CA. */
  readonly certificatePem: string;
}

/** What the writer signs with: its key and the certificate the CA issued for it. */
export interface TreeHeadSigner {
  readonly key: KeyObject;
  readonly certificatePem: string;
}

/** The bytes a head's signature covers: a fixed label, the size, the root (hex) and the time, one per line. */
export function treeHeadMessage(size: number, rootHash: Buffer, signedAt: string): Buffer {
  return Buffer.from(`dmr-audit-tree-head/v1\n${size}\n${rootHash.toString('hex')}\n${signedAt}\n`, 'utf8');
}

/** SHA-256 (hex) of a certificate's DER: the key id stored with each head. */
export function keyIdOf(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}

/** Signs the head of `size` with `rootHash` at `signedAt`. */
export function signTreeHead(signer: TreeHeadSigner, size: number, rootHash: Buffer, signedAt: string): SignedTreeHead {
  const signature = sign('sha256', treeHeadMessage(size, rootHash, signedAt), signer.key);
  return { size, rootHash, signedAt, signature, keyId: keyIdOf(signer.certificatePem), certificatePem: signer.certificatePem };
}

/**
 * Checks a head's signature and certificate: the certificate is issued (and signed) by one of `trustedCas`, valid at
 * `signedAt`, carries {@link AUDIT_SIGNER_SAN}, matches `keyId`, and its key verifies the signature. The root itself
 * is checked by the caller against the entries. Returns the first problem, or undefined when the head is genuine.
 */
export function treeHeadProblem(
  head: SignedTreeHead,
  trustedCas: readonly X509Certificate[],
  checked: Map<string, CertificateCheck> = new Map(),
): string | undefined {
  let check = checked.get(head.certificatePem);
  if (check === undefined) {
    check = checkCertificate(head.certificatePem, trustedCas);
    checked.set(head.certificatePem, check);
  }
  if ('problem' in check) return check.problem;
  if (check.keyId !== head.keyId) return 'its key_id is not the SHA-256 of its certificate';
  const at = Date.parse(head.signedAt);
  if (!(at >= check.validFrom && at <= check.validTo)) return `its certificate was not valid at ${head.signedAt}`;
  const message = treeHeadMessage(head.size, head.rootHash, head.signedAt);
  return verify('sha256', message, check.key, head.signature) ? undefined : 'its signature does not verify';
}

/** A certificate checked once per verification run (heads share the writer's certificate). */
export type CertificateCheck =
  | { readonly problem: string }
  | { readonly keyId: string; readonly key: KeyObject; readonly validFrom: number; readonly validTo: number };

function checkCertificate(pem: string, trustedCas: readonly X509Certificate[]): CertificateCheck {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return { problem: 'its certificate does not parse' };
  }
  if (!trustedCas.some((ca) => isIssuedBy(certificate, ca))) return { problem: 'its certificate is not issued by a trusted CA' };
  if (!(certificate.subjectAltName ?? '').split(', ').includes(AUDIT_SIGNER_SAN)) {
    return { problem: `its certificate is not an audit signing certificate (no ${AUDIT_SIGNER_SAN})` };
  }
  return {
    keyId: createHash('sha256').update(certificate.raw).digest('hex'),
    key: createPublicKey(certificate.publicKey.export({ type: 'spki', format: 'pem' })),
    validFrom: Date.parse(certificate.validFrom),
    validTo: Date.parse(certificate.validTo),
  };
}

function isIssuedBy(certificate: X509Certificate, ca: X509Certificate): boolean {
  try {
    return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** Parses every certificate of a PEM bundle (the trusted CAs for {@link treeHeadProblem}). */
export function parseCaBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}
