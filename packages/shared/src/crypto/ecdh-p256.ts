import { createECDH, type ECDH } from 'node:crypto';
import { loadNativeAddon } from './native-addon.js';
import { scalarBytes } from './p256-key-material.js';

/**
 * P-256 key agreement (the x coordinate of the shared point, 32 bytes) for ECDH-ES. Points are uncompressed
 * (65 bytes, 0x04 ‖ x ‖ y); a point that is not on the curve is refused by either backend.
 */
export interface EcdhP256 {
  /** `native` (@dmr/native-ecdh, about twice as fast) or `node:crypto` (the fallback when the addon is not built). */
  readonly backend: 'native' | 'node:crypto';
  /** Z for a static private scalar (32 bytes) and a peer point. Throws on an invalid point. */
  agreement(privateScalar: Buffer, peerPoint: Buffer): Buffer;
  /** A fresh ephemeral key agreed with `peerPoint`; its private half is discarded. Throws on an invalid point. */
  ephemeralAgreement(peerPoint: Buffer): { readonly ephemeralPoint: Buffer; readonly secret: Buffer };
}

const POINT_BYTES = 65;
const CURVE = 'prime256v1';

/** node:crypto: validates every peer point with a full public-key check (including a multiplication by the order). */
export const nodeEcdhP256: EcdhP256 = (() => {
  // building an ECDH object per private key is slow; one per scalar, kept as long as the scalar is referenced
  const agreements = new WeakMap<Buffer, ECDH>();
  return {
    backend: 'node:crypto',
    agreement(privateScalar, peerPoint) {
      let agreement = agreements.get(privateScalar);
      // Stryker disable next-line ConditionalExpression: a cache only; building the ECDH object every time gives the same secret
      if (!agreement) {
        agreement = createECDH(CURVE);
        agreement.setPrivateKey(privateScalar);
        agreements.set(privateScalar, agreement);
      }
      return agreement.computeSecret(peerPoint);
    },
    ephemeralAgreement(peerPoint) {
      const ephemeral = createECDH(CURVE);
      const ephemeralPoint = ephemeral.generateKeys();
      return { ephemeralPoint, secret: ephemeral.computeSecret(peerPoint) };
    },
  };
})();

/** The native backend, or undefined when @dmr/native-ecdh is not built or fails its self-check. */
export function loadNativeEcdhP256(): EcdhP256 | undefined {
  const native = loadNativeAddon('agreement', 'ephemeralAgreement');
  if (!native) return undefined;
  const candidate: EcdhP256 = {
    backend: 'native',
    agreement: (privateScalar, peerPoint) => native.agreement(privateScalar, peerPoint),
    ephemeralAgreement(peerPoint) {
      const both = native.ephemeralAgreement(peerPoint);
      return { ephemeralPoint: both.subarray(0, POINT_BYTES), secret: both.subarray(POINT_BYTES) };
    },
  };
  return agreesWithNodeCrypto(candidate) ? candidate : undefined;
}

/** A known-answer check at load: both directions of one agreement must give node:crypto's secret. */
function agreesWithNodeCrypto(candidate: EcdhP256): boolean {
  try {
    const reference = createECDH(CURVE);
    const referencePoint = reference.generateKeys();
    const { ephemeralPoint, secret } = candidate.ephemeralAgreement(referencePoint);
    const back = candidate.agreement(scalarBytes(reference.getPrivateKey()), ephemeralPoint);
    return secret.equals(reference.computeSecret(ephemeralPoint)) && back.equals(secret);
  } catch {
    // Stryker disable next-line BooleanLiteral: reached only when a native backend throws during its load-time self-check, which the built addon never does; the fallback to node:crypto is the point of the check
    return false;
  }
}

/** The backend every envelope uses: native when available, node:crypto otherwise. */
export const ecdhP256: EcdhP256 = loadNativeEcdhP256() ?? nodeEcdhP256;
