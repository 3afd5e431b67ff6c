import { createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { keyKindOf } from '../crypto/keys.js';
import type { CsrKeys } from './csr.js';

/** Key types an agent generates at enrollment (`DMR_ENROLLMENT_KEY_TYPE`); the names of `dmrctl --key-type`. */
export const ENROLLMENT_KEY_TYPES = ['ec-p256', 'rsa-3072'] as const;
/** One of {@link ENROLLMENT_KEY_TYPES}. */
export type EnrollmentKeyType = (typeof ENROLLMENT_KEY_TYPES)[number];

const generate = promisify(generateKeyPair);

/**
 * A fresh key pair: EC P-256 (ES256 and ECDH-ES for messages, the fast default) or RSA-3072 (RS256/RSA-OAEP, for
 * peers that only speak RSA). Off the event loop: RSA-3072 generation takes a noticeable while.
 */
export async function generateKeys(type: EnrollmentKeyType): Promise<CsrKeys> {
  return type === 'rsa-3072' ? generate('rsa', { modulusLength: 3072, publicExponent: 0x10001 }) : generate('ec', { namedCurve: 'P-256' });
}

/** The key pair of a PEM private key. Throws DMR_CRYPTO_KEY_INVALID unless it is RSA ≥ 2048 or EC P-256. */
export function keysOf(privateKeyPem: string): CsrKeys {
  const privateKey = createPrivateKey(privateKeyPem);
  keyKindOf(privateKey);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
