import { constants, privateDecrypt, publicEncrypt } from 'node:crypto';
import { aesJwe } from './aes-jwe.js';
import { type EphemeralKeyReuse, type EphemeralPublicJwk, freshSenderKek, type KeyAgreementCache, recipientKek } from './ecdh-es-keys.js';
import type { JoseHeader } from './jose-header.js';
import type { PrivateKeyRef, PublicKeyRef } from './keys.js';
import { privateScalarOf, publicPointOf } from './p256-key-material.js';

/** JWE key management algorithms the fast path handles (RFC 7518 §4.3, §4.6). */
export type KeyManagementAlgorithm = 'ECDH-ES+A256KW' | 'RSA-OAEP-256' | 'RSA-OAEP';

/** A freshly wrapped content encryption key and the header members the recipient needs to unwrap it. */
export interface WrappedKey {
  readonly encryptedKey: Buffer;
  readonly headerMembers: { readonly epk?: EphemeralPublicJwk };
}

/** Where ECDH-ES key-encryption keys come from; without them, every message derives its own (RFC 7518's plain reading). */
export interface KeyAgreements {
  /** Sender side: ephemeral keys reused per recipient for a bounded time. */
  readonly ephemeralKeys?: EphemeralKeyReuse;
  /** Recipient side: key-encryption keys by `epk`. */
  readonly agreedKeys?: KeyAgreementCache;
}

/** Wraps `cek` to the recipient's key with `alg` (ECDH-ES+A256KW for EC P-256, RSA-OAEP or RSA-OAEP-256 for RSA). */
export function wrapKey(alg: KeyManagementAlgorithm, cek: Buffer, recipient: PublicKeyRef, agreements: KeyAgreements = {}): WrappedKey {
  if (alg === 'ECDH-ES+A256KW') {
    const point = publicPointOf(recipient.key);
    const { epk, kek } = agreements.ephemeralKeys ? agreements.ephemeralKeys.kekFor(point) : freshSenderKek(point);
    return { encryptedKey: aesJwe.keyWrap(kek, cek), headerMembers: { epk } };
  }
  const oaepHash = alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1';
  return {
    encryptedKey: publicEncrypt({ key: recipient.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, cek),
    headerMembers: {},
  };
}

/** Unwraps the content encryption key of a JWE whose protected header is `header`. Throws when anything does not check out. */
export function unwrapKey(
  alg: KeyManagementAlgorithm,
  header: JoseHeader,
  encryptedKey: Buffer,
  recipient: PrivateKeyRef,
  agreements: KeyAgreements = {},
): Buffer {
  if (alg === 'ECDH-ES+A256KW') {
    const scalar = privateScalarOf(recipient.key);
    const kek = agreements.agreedKeys ? agreements.agreedKeys.kekFor(scalar, header) : recipientKek(scalar, header);
    return aesJwe.keyUnwrap(kek, encryptedKey);
  }
  const oaepHash = alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1';
  return privateDecrypt({ key: recipient.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, encryptedKey);
}
