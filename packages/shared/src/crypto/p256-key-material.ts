import type { KeyObject } from 'node:crypto';
import { decodeBase64Url } from './jose-header.js';

// Raw EC material derived once per imported key: exporting a JWK is far slower than using the result, and the
// native P-256 backends take raw scalars and points.
const publicPoints = new WeakMap<KeyObject, Buffer>();
const privateScalars = new WeakMap<KeyObject, Buffer>();

/** The uncompressed point (65 bytes, 0x04 ‖ x ‖ y) of a P-256 key (public, or the public half of a private one). */
export function publicPointOf(key: KeyObject): Buffer {
  let point = publicPoints.get(key);
  // Stryker disable next-line ConditionalExpression: a cache only; exporting the JWK every time gives the same point
  if (!point) {
    const jwk = key.export({ format: 'jwk' });
    point = Buffer.concat([Buffer.of(4), decodeBase64Url(jwk.x ?? '', 'x'), decodeBase64Url(jwk.y ?? '', 'y')]);
    publicPoints.set(key, point);
  }
  return point;
}

/** The private scalar (32 bytes, big-endian) of a P-256 private key. */
export function privateScalarOf(key: KeyObject): Buffer {
  let scalar = privateScalars.get(key);
  // Stryker disable next-line ConditionalExpression: a cache only; exporting the JWK every time gives the same scalar
  if (!scalar) {
    scalar = scalarBytes(decodeBase64Url(key.export({ format: 'jwk' }).d ?? '', 'd'));
    privateScalars.set(key, scalar);
  }
  return scalar;
}

const SCALAR_BYTES = 32;

/**
 * `scalar` left-padded with zeros to 32 bytes, the length the native backends require. node:crypto's
 * `ECDH.getPrivateKey()` drops leading zero bytes (one key in 256 comes out shorter), so pass such scalars through this.
 */
export function scalarBytes(scalar: Buffer): Buffer {
  // Stryker disable next-line EqualityOperator: at exactly 32 bytes, padding with zero bytes returns the same bytes
  if (scalar.length >= SCALAR_BYTES) return scalar;
  return Buffer.concat([Buffer.alloc(SCALAR_BYTES - scalar.length), scalar]);
}
