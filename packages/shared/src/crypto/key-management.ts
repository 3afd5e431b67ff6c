import { constants, createCipheriv, createDecipheriv, createHash, privateDecrypt, publicEncrypt } from 'node:crypto';
import { ecdhP256 } from './ecdh-p256.js';
import { decodeBase64Url, encodeBase64Url, type JoseHeader } from './jose-header.js';
import type { PrivateKeyRef, PublicKeyRef } from './keys.js';
import { privateScalarOf, publicPointOf } from './p256-key-material.js';

/** JWE key management algorithms the fast path handles (RFC 7518 §4.3, §4.6). */
export type KeyManagementAlgorithm = 'ECDH-ES+A256KW' | 'RSA-OAEP-256' | 'RSA-OAEP';

/** The public JWK of an ephemeral P-256 key, as it goes into the `epk` header member. */
export interface EphemeralPublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

/** A freshly wrapped content encryption key and the header members the recipient needs to unwrap it. */
export interface WrappedKey {
  readonly encryptedKey: Buffer;
  readonly headerMembers: { readonly epk?: EphemeralPublicJwk };
}

const COORDINATE_BYTES = 32;
const KW_KEY_BITS = 256;
/** RFC 3394 default initial value of AES key wrap. */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

/** Wraps `cek` to the recipient's key with `alg` (ECDH-ES+A256KW for EC P-256, RSA-OAEP-256 for RSA). */
export function wrapKey(alg: KeyManagementAlgorithm, cek: Buffer, recipient: PublicKeyRef): WrappedKey {
  if (alg === 'ECDH-ES+A256KW') {
    const { ephemeralPoint, secret } = ecdhP256.ephemeralAgreement(publicPointOf(recipient.key));
    const kek = concatKdf(secret, KW_KEY_BITS, alg, EMPTY, EMPTY);
    return { encryptedKey: aesKeyWrap(kek, cek), headerMembers: { epk: jwkOfPoint(ephemeralPoint) } };
  }
  const oaepHash = alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1';
  return {
    encryptedKey: publicEncrypt({ key: recipient.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, cek),
    headerMembers: {},
  };
}

/** Unwraps the content encryption key of a JWE whose protected header is `header`. Throws when anything does not check out. */
export function unwrapKey(alg: KeyManagementAlgorithm, header: JoseHeader, encryptedKey: Buffer, recipient: PrivateKeyRef): Buffer {
  if (alg === 'ECDH-ES+A256KW') {
    const z = ecdhP256.agreement(privateScalarOf(recipient.key), pointOfJwk(header.epk));
    const apu = optionalBytes(header.apu, 'apu');
    const apv = optionalBytes(header.apv, 'apv');
    return aesKeyUnwrap(concatKdf(z, KW_KEY_BITS, alg, apu, apv), encryptedKey);
  }
  const oaepHash = alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1';
  return privateDecrypt({ key: recipient.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, encryptedKey);
}

const EMPTY = Buffer.alloc(0);

/**
 * Concat KDF (NIST SP 800-56A §5.8.1, as profiled by RFC 7518 §4.6.2) with SHA-256: derives `keyBits` of key
 * from the shared secret `z`; AlgorithmID, PartyUInfo and PartyVInfo are length-prefixed, SuppPubInfo is `keyBits`.
 */
export function concatKdf(z: Buffer, keyBits: number, algorithmId: string, apu: Buffer, apv: Buffer): Buffer {
  const otherInfo = Buffer.concat([
    lengthPrefixed(Buffer.from(algorithmId, 'ascii')),
    lengthPrefixed(apu),
    lengthPrefixed(apv),
    uint32(keyBits),
  ]);
  const rounds = Math.ceil(keyBits / 256);
  const output = Buffer.alloc(rounds * 32);
  for (let round = 1; round <= rounds; round++) {
    createHash('sha256')
      .update(uint32(round))
      .update(z)
      .update(otherInfo)
      .digest()
      .copy(output, (round - 1) * 32);
  }
  return output.subarray(0, keyBits / 8);
}

function aesKeyWrap(kek: Buffer, cek: Buffer): Buffer {
  const cipher = createCipheriv('id-aes256-wrap', kek, KW_IV);
  return Buffer.concat([cipher.update(cek), cipher.final()]);
}

function aesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const decipher = createDecipheriv('id-aes256-wrap', kek, KW_IV);
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}

function jwkOfPoint(point: Buffer): EphemeralPublicJwk {
  const x = encodeBase64Url(point.subarray(1, 1 + COORDINATE_BYTES));
  const y = encodeBase64Url(point.subarray(1 + COORDINATE_BYTES));
  return { kty: 'EC', crv: 'P-256', x, y };
}

/** The uncompressed point of an `epk` JWK; the key agreement then refuses points that are not on the curve. */
function pointOfJwk(epk: unknown): Buffer {
  if (typeof epk !== 'object' || epk === null) throw new Error('epk is missing');
  const { kty, crv, x, y } = epk as Record<string, unknown>;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') throw new Error('epk is not a P-256 public key');
  const xBytes = decodeBase64Url(x, 'epk.x');
  const yBytes = decodeBase64Url(y, 'epk.y');
  if (xBytes.length !== COORDINATE_BYTES || yBytes.length !== COORDINATE_BYTES) throw new Error('epk coordinates have the wrong length');
  return Buffer.concat([Buffer.of(4), xBytes, yBytes]);
}

function optionalBytes(value: unknown, what: string): Buffer {
  if (value === undefined) return EMPTY;
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return decodeBase64Url(value, what);
}

function lengthPrefixed(data: Buffer): Buffer {
  return Buffer.concat([uint32(data.length), data]);
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}
