import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { DmrError } from '../errors.js';
import { pemCertificates } from '../pki/pem-bundle.js';
import { accept, type Result, refuse } from '../result.js';

const INVALID = 'DMR_CERT_MATERIAL_INVALID';

/** The PEM texts of one TLS identity as they are on disk: leaf certificate (chain allowed), private key, CA bundle. */
export interface CertificateMaterial {
  readonly certificate: string;
  readonly key: string;
  /** The trust bundle that goes with it (`DMR_TLS_CA_FILE`); undefined when none is managed with it. */
  readonly ca?: string | undefined;
}

/** What a usable identity is, once checked. */
export interface CertificateFacts {
  /** Serial number in hex, as Node prints it (upper case). */
  readonly serial: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly subject: string;
  readonly subjectAltName: string | undefined;
  /** SHA-256 of the public key (SPKI DER), hex: equal before and after a renewal that kept the key pair. */
  readonly publicKeySha256: string;
  /** The imported private key (never logged). */
  readonly privateKey: KeyObject;
  /** The leaf certificate. */
  readonly leaf: X509Certificate;
}

/**
 * Checks that `material` is a usable identity at `nowMs`: the first certificate parses, the key parses and belongs to
 * it, every CA of the bundle parses, and (unless `nowMs` is undefined: describing what a process was started with) the
 * certificate is inside its window at `nowMs`. Pure (no I/O); the refusal's message names what is wrong (never the key).
 */
export function inspectMaterial(material: CertificateMaterial, nowMs: number | undefined): Result<CertificateFacts> {
  const leafPem = pemCertificates(material.certificate)[0];
  if (leafPem === undefined) return refuse(INVALID, 'certificate', 'holds no PEM certificate');
  let leaf: X509Certificate;
  let privateKey: KeyObject;
  try {
    leaf = new X509Certificate(leafPem);
  } catch {
    return refuse(INVALID, 'certificate', 'is not a valid PEM certificate');
  }
  try {
    privateKey = createPrivateKey(material.key);
  } catch {
    return refuse(INVALID, 'key', 'is not a valid PEM private key');
  }
  if (!leaf.checkPrivateKey(privateKey)) return refuse(INVALID, 'key', 'does not belong to the certificate');
  const caProblem = material.ca === undefined ? undefined : bundleProblem(material.ca);
  if (caProblem !== undefined) return refuse(INVALID, 'ca', caProblem);
  const notBeforeMs = leaf.validFromDate.getTime();
  const notAfterMs = leaf.validToDate.getTime();
  if (nowMs !== undefined && nowMs >= notAfterMs) return refuse(INVALID, 'certificate', `expired at ${leaf.validToDate.toISOString()}`);
  if (nowMs !== undefined && nowMs < notBeforeMs)
    return refuse(INVALID, 'certificate', `is valid only from ${leaf.validFromDate.toISOString()}`);
  return accept({
    serial: leaf.serialNumber,
    notBeforeMs,
    notAfterMs,
    subject: leaf.subject,
    subjectAltName: leaf.subjectAltName,
    publicKeySha256: publicKeyFingerprint(leaf.publicKey),
    privateKey,
    leaf,
  });
}

/** SHA-256 (hex) of a public key's SPKI DER: compares key pairs without comparing private keys. */
export function publicKeyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function bundleProblem(text: string): string | undefined {
  const certificates = pemCertificates(text);
  if (certificates.length === 0) return 'holds no PEM certificate';
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      return `certificate ${index + 1} of ${certificates.length} is not a valid PEM certificate`;
    }
  }
  return undefined;
}

/**
 * The facts of the material a process was built with, whatever the time (an expired certificate still gets a keeper,
 * which says so). Throws DMR_CERT_MATERIAL_INVALID when the material is not an identity at all.
 */
export function identityOf(material: CertificateMaterial): { material: CertificateMaterial; facts: CertificateFacts } {
  const checked = inspectMaterial(material, undefined);
  if (!checked.ok) throw new DmrError(INVALID, checked.errors.map((error) => `${error.path}: ${error.message}`).join('; '));
  return { material, facts: checked.value };
}
