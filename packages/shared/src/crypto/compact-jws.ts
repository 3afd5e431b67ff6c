import { constants, sign, verify } from 'node:crypto';
import { es256 } from './es256.js';
import { assertOnlyKnownMembers, decodeBase64Url, decodeHeader, encodeBase64Url, stringMember } from './jose-header.js';
import type { KeyKind, PrivateKeyRef, PublicKeyRef } from './keys.js';

/** JWS algorithms the fast path signs and verifies (RFC 7518 §3). */
export type JwsAlgorithm = 'ES256' | 'RS256' | 'PS256';

const HEADER_MEMBERS = new Set(['alg', 'kid', 'typ', 'cty']);
/** ES256 signatures are the fixed-size R‖S pair (RFC 7518 §3.4), 2 × 32 bytes for P-256. */
const ES256_SIGNATURE_BYTES = 64;

/**
 * Compact JWS (RFC 7515) with node:crypto: `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)`.
 * `header.alg` must suit the key (ES256 for EC P-256; RS256 or PS256 for RSA). Interoperable with jose's `CompactSign`.
 */
export function signCompactJws(
  payload: Uint8Array,
  header: { readonly alg: JwsAlgorithm; readonly [member: string]: unknown },
  key: PrivateKeyRef,
): string {
  if (!isAlgorithmFor(header.alg, key)) throw new Error(`${header.alg} does not suit a ${key.kind} key`);
  const signingInput = `${encodeBase64Url(JSON.stringify(header))}.${encodeBase64Url(payload)}`;
  const input = Buffer.from(signingInput);
  const signature =
    header.alg === 'ES256'
      ? es256.sign(key.key, input)
      : sign('sha256', input, signerOptions(header.alg, key) as Parameters<typeof sign>[2]);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Verifies a compact JWS against `key`, accepting only `algorithms`; returns the payload bytes.
 * Throws on a malformed JWS, a refused algorithm or a bad signature; throws `UnsupportedJoseFeature`
 * for headers it does not handle (`crit`, `b64`, …) so the caller can use jose instead.
 */
export function verifyCompactJws(jws: string, key: PublicKeyRef, algorithms: readonly string[]): Buffer {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new Error('JWS must have three parts');
  // Stryker disable next-line StringLiteral: defaults for the type only; three parts were checked above
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts;
  const header = decodeHeader(encodedHeader, 'JWS protected header');
  assertOnlyKnownMembers(header, HEADER_MEMBERS);
  const alg = stringMember(header, 'alg');
  if (alg === undefined || !algorithms.includes(alg) || !isAlgorithmFor(alg, key)) throw new Error(`JWS alg ${String(alg)} not allowed`);
  const signature = decodeBase64Url(encodedSignature, 'JWS signature');
  if (alg === 'ES256' && signature.length !== ES256_SIGNATURE_BYTES) throw new Error('ES256 signature has the wrong length');
  const signingInput = Buffer.from(`${encodedHeader}.${encodedPayload}`);
  const valid =
    alg === 'ES256'
      ? es256.verify(key.key, signingInput, signature)
      : verify('sha256', signingInput, signerOptions(alg, key) as Parameters<typeof verify>[2], signature);
  if (!valid) {
    throw new Error('JWS signature does not verify');
  }
  return decodeBase64Url(encodedPayload, 'JWS payload');
}

function isAlgorithmFor(alg: string, key: { readonly kind: KeyKind }): alg is JwsAlgorithm {
  return key.kind === 'ec-p256' ? alg === 'ES256' : alg === 'RS256' || alg === 'PS256';
}

/** node:crypto options of the RSA algorithms (ES256 goes through {@link es256}). */
function signerOptions(alg: JwsAlgorithm, key: PrivateKeyRef | PublicKeyRef) {
  if (alg === 'PS256') return { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  return { key: key.key, padding: constants.RSA_PKCS1_PADDING };
}
