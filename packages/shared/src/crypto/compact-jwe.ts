import { aesJwe } from './aes-jwe.js';
import { assertOnlyKnownMembers, decodeBase64Url, decodeHeader, encodeBase64Url, stringMember } from './jose-header.js';
import { type KeyAgreements, type KeyManagementAlgorithm, unwrapKey, wrapKey } from './key-management.js';
import type { KeyKind, PrivateKeyRef, PublicKeyRef } from './keys.js';
import { RandomPool } from './random-pool.js';

/** The one content encryption algorithm DMR uses (RFC 7518 §5.3). */
const ENC = 'A256GCM';
const CEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_MEMBERS = new Set(['alg', 'enc', 'cty', 'typ', 'kid', 'epk', 'apu', 'apv']);

/** Protected header members a caller may set besides `alg`, `enc` and `epk` (e.g. `cty`, `kid`). */
export type JweHeaderExtras = Readonly<Record<string, string>>;
const RESERVED_MEMBERS = ['alg', 'enc', 'epk', 'apu', 'apv'];
// content keys and IVs: one pool per process, like the CSPRNG it draws from
const random = new RandomPool();

/**
 * Compact JWE (RFC 7516) with A256GCM (through `aesJwe`): a fresh content key, wrapped to `recipient` with `alg`
 * (ECDH-ES+A256KW for EC P-256, RSA-OAEP-256 or RSA-OAEP for RSA). Interoperable with jose's `compactDecrypt`.
 * `agreements.ephemeralKeys` lets ECDH-ES messages to one recipient share an ephemeral key for a bounded time.
 */
export function encryptCompactJwe(
  plaintext: Uint8Array,
  alg: KeyManagementAlgorithm,
  extras: JweHeaderExtras,
  recipient: PublicKeyRef,
  agreements: KeyAgreements = {},
): string {
  if (!isAlgorithmFor(alg, recipient)) throw new Error(`${alg} does not suit a ${recipient.kind} key`);
  const reserved = RESERVED_MEMBERS.find((member) => member in extras);
  if (reserved) throw new Error(`header member ${reserved} is set by the encryption itself`);
  const keyAndIv = random.take(CEK_BYTES + IV_BYTES);
  const cek = keyAndIv.subarray(0, CEK_BYTES);
  const iv = keyAndIv.subarray(CEK_BYTES);
  const wrapped = wrapKey(alg, cek, recipient, agreements);
  const encodedHeader = encodeBase64Url(JSON.stringify({ alg, enc: ENC, ...extras, ...wrapped.headerMembers }));
  const { ciphertext, tag } = aesJwe.gcmSeal(cek, iv, Buffer.from(encodedHeader, 'ascii'), plaintext);
  return [
    encodedHeader,
    wrapped.encryptedKey.toString('base64url'),
    iv.toString('base64url'),
    ciphertext.toString('base64url'),
    tag.toString('base64url'),
  ].join('.');
}

/**
 * Decrypts a compact JWE with `recipient`'s key, accepting only `algorithms` for key management and A256GCM for content.
 * Returns the plaintext. Throws when the JWE is malformed, refused or fails authentication; throws
 * `UnsupportedJoseFeature` for header members it does not handle (`zip`, `crit`, `x5c` …) so the caller can use jose.
 * `agreements.agreedKeys` spares the ECDH-ES agreement for an `epk` seen before.
 */
export function decryptCompactJwe(
  jwe: string,
  recipient: PrivateKeyRef,
  algorithms: readonly string[],
  agreements: KeyAgreements = {},
): Buffer {
  const parts = jwe.split('.');
  if (parts.length !== 5) throw new Error('JWE must have five parts');
  // Stryker disable next-line StringLiteral: defaults for the type only; five parts were checked above
  const [encodedHeader = '', encodedKey = '', encodedIv = '', encodedCiphertext = '', encodedTag = ''] = parts;
  const header = decodeHeader(encodedHeader, 'JWE protected header');
  assertOnlyKnownMembers(header, HEADER_MEMBERS);
  const alg = stringMember(header, 'alg');
  if (alg === undefined || !algorithms.includes(alg) || !isAlgorithmFor(alg, recipient))
    throw new Error(`JWE alg ${String(alg)} not allowed`);
  if (header.enc !== ENC) throw new Error(`JWE enc ${String(header.enc)} not allowed`);
  const iv = decodeBase64Url(encodedIv, 'JWE iv');
  const tag = decodeBase64Url(encodedTag, 'JWE tag');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('JWE iv or tag has the wrong length');
  const cek = unwrapKey(alg, header, decodeBase64Url(encodedKey, 'JWE encrypted key'), recipient, agreements);
  if (cek.length !== CEK_BYTES) throw new Error('content encryption key has the wrong length');
  const ciphertext = decodeBase64Url(encodedCiphertext, 'JWE ciphertext');
  return aesJwe.gcmOpen(cek, iv, Buffer.from(encodedHeader, 'ascii'), ciphertext, tag);
}

function isAlgorithmFor(alg: string, key: { readonly kind: KeyKind }): alg is KeyManagementAlgorithm {
  return key.kind === 'ec-p256' ? alg === 'ECDH-ES+A256KW' : alg === 'RSA-OAEP-256' || alg === 'RSA-OAEP';
}
