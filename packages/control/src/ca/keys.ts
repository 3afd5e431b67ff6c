import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, webcrypto } from 'node:crypto';
import { DmrError, keyKindOf, withFinalNewline } from '@dmr/shared/base';
import type { KeyType } from './vocabulary.js';
import { x509 } from './x509.js';

/** A WebCrypto signing key (Node's type: the project compiles without DOM types). */
export type SigningKey = webcrypto.CryptoKey;

export { KEY_TYPES, type KeyType } from './vocabulary.js';

/** A key pair held in memory; only {@link privateKeyPem} turns the private half into text, to be written 0600. */
export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Generates a key pair of `type` (default EC P-256). */
export function generateKeyPair(type: KeyType = 'ec-p256'): KeyPair {
  return type === 'rsa-3072'
    ? generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 0x10001 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** The PKCS#8 PEM of a private key (unencrypted: protect it with file mode 0600). */
export function privateKeyPem(key: KeyObject): string {
  return withFinalNewline(key.export({ type: 'pkcs8', format: 'pem' }).toString());
}

/** True when `key` is an RSA key (which also gets keyEncipherment in TLS server certificates). */
export function isRsaKey(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'rsa';
}

/**
 * Imports a private key (PEM, any PKCS#8/PKCS#1/SEC1 form) as a WebCrypto signing key with
 * SHA-256: ECDSA for P-256, RSASSA-PKCS1-v1_5 for RSA. Throws DMR_CRYPTO_KEY_INVALID.
 */
export async function signingKeyFromPem(pem: string): Promise<SigningKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new DmrError('DMR_CRYPTO_KEY_INVALID', 'the CA private key is not a valid PEM key', { cause: error });
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const algorithm = keyKindOf(key) === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  return webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
}

/** The X.509 signature algorithm (always SHA-256) for a signing key made by {@link signingKeyFromPem}. */
export function signatureAlgorithmFor(signingKey: SigningKey): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return signingKey.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

/**
 * The subject public key from a PEM file an operator passes so the private key never leaves
 * the agent's machine: an SPKI or PKCS#1 public key, or a PKCS#10 CSR (whose self-signature
 * must verify: proof that the requester holds the private key). Only RSA ≥ 2048 and EC P-256
 * are accepted. Throws DMR_CA_INVALID_REQUEST (bad CSR) or DMR_CRYPTO_KEY_INVALID.
 */
export async function subjectKeyFromPem(pem: string): Promise<KeyObject> {
  if (pem.includes('CERTIFICATE REQUEST-----')) return publicKeyOfCsr(pem);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new DmrError('DMR_CRYPTO_KEY_INVALID', 'the public key file is not a PEM public key or CSR', { cause: error });
  }
  keyKindOf(key);
  return key;
}

async function publicKeyOfCsr(pem: string): Promise<KeyObject> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (error) {
    throw new DmrError('DMR_CA_INVALID_REQUEST', 'the CSR cannot be parsed', { cause: error });
  }
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  keyKindOf(key);
  const isSigned = await csr.verify().catch(() => false);
  if (!isSigned) throw new DmrError('DMR_CA_INVALID_REQUEST', 'the CSR signature does not verify with its own public key');
  return key;
}

/** The SubjectPublicKeyInfo of `key` as @peculiar/x509 takes it. */
export function toX509PublicKey(key: KeyObject): x509.PublicKey {
  return new x509.PublicKey(key.export({ type: 'spki', format: 'der' }));
}
