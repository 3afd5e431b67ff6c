// Reading a PKCS#10 request sent over the network (POST /v1/enroll, /v1/renew, /v1/certificates): parse it, check
// its key and its self-signature, and hand the pure rules (domain/csr-rules.ts) the facts. Untrusted input, so every
// failure is a refusal value naming the field `csr`, never a throw.

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { type CertOutcome, type CsrFacts, type CsrKeyFacts, certRefusal, checkCsrKey } from '../domain/index.js';
import { x509 } from './x509.js';

const SAN_OID = '2.5.29.17';

/** Largest CSR accepted (characters of PEM): a P-256 CSR is ~0.5 KB, an RSA-8192 one ~2.5 KB. */
export const MAX_CSR_PEM_LENGTH = 16_384;

/** A CSR whose signature verified and whose key the control plane certifies. */
export interface VerifiedCsr {
  readonly facts: CsrFacts;
  /** The requested public key, ready for {@link signLeaf}. */
  readonly publicKey: KeyObject;
  /** SHA-256 (lowercase hex) of the DER SubjectPublicKeyInfo: equal across renewals that keep the key pair. */
  readonly publicKeySha256: string;
}

/**
 * Parses and verifies a PEM CSR: `DMR_CONTROL_CSR_INVALID` when it is not one (or too long, or its signature does
 * not verify with its own key: tampered, or no proof of possession), `DMR_CONTROL_CSR_KEY_UNSUPPORTED` for a key
 * other than RSA 2048–8192 or EC P-256 (checked before the signature, so an unsupported algorithm never reaches the
 * verifier). Both name the field `csr`.
 */
export async function verifyCsr(pem: string): Promise<CertOutcome<VerifiedCsr>> {
  const parsed = parseCsr(pem);
  if (!parsed.ok) return parsed;
  const { csr, publicKey, names } = parsed.value;
  const key = keyFacts(publicKey);
  const keyRefusal = checkCsrKey(key);
  if (keyRefusal !== undefined) return keyRefusal;
  const isSigned = await csr.verify().catch(() => false);
  if (!isSigned) return certRefusal('DMR_CONTROL_CSR_INVALID', 'the CSR signature does not verify with its own public key', 'csr');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    ok: true,
    value: { facts: { key, ...names }, publicKey, publicKeySha256: createHash('sha256').update(spki).digest('hex') },
  };
}

interface ParsedCsr {
  readonly csr: x509.Pkcs10CertificateRequest;
  readonly publicKey: KeyObject;
  readonly names: Omit<CsrFacts, 'key'>;
}

function parseCsr(pem: string): CertOutcome<ParsedCsr> {
  if (pem.length > MAX_CSR_PEM_LENGTH) {
    return certRefusal('DMR_CONTROL_CSR_INVALID', `the CSR is longer than ${MAX_CSR_PEM_LENGTH} characters`, 'csr');
  }
  if (!pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    return certRefusal('DMR_CONTROL_CSR_INVALID', 'the CSR must be PEM with the label CERTIFICATE REQUEST', 'csr');
  }
  try {
    const csr = new x509.Pkcs10CertificateRequest(pem);
    const publicKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    return { ok: true, value: { csr, publicKey, names: namesOf(csr) } };
  } catch {
    return certRefusal('DMR_CONTROL_CSR_INVALID', 'the CSR cannot be parsed as PKCS#10', 'csr');
  }
}

function keyFacts(key: KeyObject): CsrKeyFacts {
  const details = key.asymmetricKeyDetails;
  return {
    type: key.asymmetricKeyType ?? 'unknown',
    ...(details?.modulusLength === undefined ? {} : { rsaBits: details.modulusLength }),
    ...(details?.namedCurve === undefined ? {} : { namedCurve: details.namedCurve }),
  };
}

function namesOf(csr: x509.Pkcs10CertificateRequest): Omit<CsrFacts, 'key'> {
  // every SAN extension the request carries (a second one must not hide a name from the identity check)
  const items = csr
    .getExtensions(SAN_OID)
    .flatMap((extension) => new x509.SubjectAlternativeNameExtension(extension.rawData).names.items.map((name) => name.toJSON()));
  const valuesOf = (type: string) => items.filter((item) => item.type === type).map((item) => item.value);
  return {
    commonNames: csr.subjectName.getField('CN'),
    uris: valuesOf('url'),
    dnsNames: valuesOf('dns'),
    ipAddresses: valuesOf('ip'),
  };
}
