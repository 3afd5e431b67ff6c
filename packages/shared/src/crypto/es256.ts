import { generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { loadNativeAddon } from './native-addon.js';
import { privateScalarOf, publicPointOf } from './p256-key-material.js';

/** ES256 (RFC 7518 §3.4): ECDSA with P-256 and SHA-256, the signature as the 64-byte R ‖ S pair. */
export interface Es256 {
  /** `native` (@dmr/native-ecdh, without node:crypto's per-call EVP set-up) or `node:crypto` (the fallback). */
  readonly backend: 'native' | 'node:crypto';
  /** Signs SHA-256(`data`) with a P-256 private key. */
  sign(key: KeyObject, data: Buffer): Buffer;
  /** True when `signature` (64 bytes) is a valid ES256 signature of `data` by the P-256 public key `key`. */
  verify(key: KeyObject, data: Buffer, signature: Buffer): boolean;
}

const SIGNATURE_BYTES = 64;

/** node:crypto: one EVP_DigestSign/Verify context set up per call, DER converted to R ‖ S. */
export const nodeEs256: Es256 = {
  backend: 'node:crypto',
  sign: (key, data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }),
  verify: (key, data, signature) => verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature),
};

/** The native backend, or undefined when @dmr/native-ecdh is not built, lacks ES256 or fails its self-check. */
export function loadNativeEs256(): Es256 | undefined {
  const native = loadNativeAddon('es256Sign', 'es256Verify');
  if (!native) return undefined;
  const candidate: Es256 = {
    backend: 'native',
    sign: (key, data) => native.es256Sign(privateScalarOf(key), data),
    // a wrong-length signature is simply not valid (node:crypto answers false too); the addon would throw
    verify: (key, data, signature) => signature.length === SIGNATURE_BYTES && native.es256Verify(publicPointOf(key), data, signature),
  };
  return agreesWithNodeCrypto(candidate) ? candidate : undefined;
}

/** A check at load: each backend must accept the other's signature and refuse one over other data. */
function agreesWithNodeCrypto(candidate: Es256): boolean {
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const data = Buffer.from('DMR ES256 self-check');
    const other = Buffer.from('DMR ES256 self-check!');
    const ours = candidate.sign(privateKey, data);
    const theirs = nodeEs256.sign(privateKey, data);
    return (
      nodeEs256.verify(publicKey, data, ours) &&
      candidate.verify(publicKey, data, theirs) &&
      !candidate.verify(publicKey, other, theirs) &&
      !nodeEs256.verify(publicKey, other, ours)
    );
  } catch {
    // Stryker disable next-line BooleanLiteral: reached only when a native backend throws during its load-time self-check, which the built addon never does; the fallback to node:crypto is the point of the check
    return false;
  }
}

/** The backend every ES256 signature uses: native when available, node:crypto otherwise. */
export const es256: Es256 = loadNativeEs256() ?? nodeEs256;
