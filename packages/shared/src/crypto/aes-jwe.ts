import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { loadNativeAddon } from './native-addon.js';

/** The symmetric half of a DMR JWE: A256GCM content encryption and A256KW key wrapping (RFC 7518 §5.3, §4.4). */
export interface AesJwe {
  /** `native` (@dmr/native-ecdh, without node:crypto's per-call cipher objects) or `node:crypto` (the fallback). */
  readonly backend: 'native' | 'node:crypto';
  /** Encrypts with a 32-byte key and 12-byte IV, authenticating `aad` too. */
  gcmSeal(key: Buffer, iv: Buffer, aad: Buffer, plaintext: Uint8Array): { readonly ciphertext: Buffer; readonly tag: Buffer };
  /** Decrypts; throws when the 16-byte `tag` does not authenticate `ciphertext` and `aad`. */
  gcmOpen(key: Buffer, iv: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer;
  /** Wraps a 32-byte key under a 32-byte key-encryption key (40 bytes out). */
  keyWrap(kek: Buffer, key: Buffer): Buffer;
  /** Unwraps; throws when the integrity check fails. */
  keyUnwrap(kek: Buffer, wrapped: Buffer): Buffer;
}

const TAG_BYTES = 16;
/** RFC 3394 default initial value of AES key wrap. */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

/** node:crypto: a Cipheriv/Decipheriv per call. */
export const nodeAesJwe: AesJwe = {
  backend: 'node:crypto',
  gcmSeal(key, iv, aad, plaintext) {
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext, tag: cipher.getAuthTag() };
  },
  gcmOpen(key, iv, aad, ciphertext, tag) {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  },
  keyWrap(kek, key) {
    const cipher = createCipheriv('id-aes256-wrap', kek, KW_IV);
    return Buffer.concat([cipher.update(key), cipher.final()]);
  },
  keyUnwrap(kek, wrapped) {
    const decipher = createDecipheriv('id-aes256-wrap', kek, KW_IV);
    return Buffer.concat([decipher.update(wrapped), decipher.final()]);
  },
};

/** The native backend, or undefined when @dmr/native-ecdh is not built, lacks AES or fails its self-check. */
export function loadNativeAesJwe(): AesJwe | undefined {
  const native = loadNativeAddon('aesGcmSeal', 'aesGcmOpen', 'aesKeyWrap', 'aesKeyUnwrap');
  if (!native) return undefined;
  const candidate: AesJwe = {
    backend: 'native',
    gcmSeal(key, iv, aad, plaintext) {
      const sealed = native.aesGcmSeal(key, iv, aad, plaintext);
      const split = sealed.length - TAG_BYTES;
      return { ciphertext: sealed.subarray(0, split), tag: sealed.subarray(split) };
    },
    gcmOpen: (key, iv, aad, ciphertext, tag) => native.aesGcmOpen(key, iv, aad, ciphertext, tag),
    keyWrap: (kek, key) => native.aesKeyWrap(kek, key),
    keyUnwrap: (kek, wrapped) => native.aesKeyUnwrap(kek, wrapped),
  };
  return agreesWithNodeCrypto(candidate) ? candidate : undefined;
}

/** A check at load: each backend opens and unwraps what the other produced, and refuses a changed tag or wrapped key. */
function agreesWithNodeCrypto(candidate: AesJwe): boolean {
  try {
    const [key, iv, aad, data] = [randomBytes(32), randomBytes(12), Buffer.from('DMR AES self-check'), randomBytes(100)];
    const ours = candidate.gcmSeal(key, iv, aad, data);
    const theirs = nodeAesJwe.gcmSeal(key, iv, aad, data);
    const wrapped = candidate.keyWrap(key, data.subarray(0, 32));
    const flipped = Buffer.from(ours.tag);
    flipped[0] = (flipped[0] as number) ^ 1;
    return (
      ours.ciphertext.equals(theirs.ciphertext) &&
      ours.tag.equals(theirs.tag) &&
      candidate.gcmOpen(key, iv, aad, theirs.ciphertext, theirs.tag).equals(data) &&
      wrapped.equals(nodeAesJwe.keyWrap(key, data.subarray(0, 32))) &&
      candidate.keyUnwrap(key, wrapped).equals(data.subarray(0, 32)) &&
      refuses(() => candidate.gcmOpen(key, iv, aad, ours.ciphertext, flipped)) &&
      refuses(() => candidate.keyUnwrap(data.subarray(0, 32), wrapped))
    );
  } catch {
    // Stryker disable next-line BooleanLiteral: reached only when a native backend throws during its load-time self-check, which the built addon never does; the fallback to node:crypto is the point of the check
    return false;
  }
}

function refuses(operation: () => unknown): boolean {
  try {
    operation();
    // Stryker disable next-line BooleanLiteral: reached only by a native backend that accepts tampered input, which the self-check exists to reject; the built addon refuses it
    return false;
  } catch {
    return true;
  }
}

/** The backend every envelope uses: native when available, node:crypto otherwise. */
export const aesJwe: AesJwe = loadNativeAesJwe() ?? nodeAesJwe;
