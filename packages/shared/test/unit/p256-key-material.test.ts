// P-256 key material as the native backends take it: the 65-byte public point and the 32-byte private scalar.
import { createECDH, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { privateScalarOf, publicPointOf, scalarBytes } from '../../src/crypto/p256-key-material.js';

describe('P-256 key material', () => {
  it('pads a short scalar with leading zeros to 32 bytes and passes a full one through as it is', () => {
    const short = Buffer.alloc(31, 0xab);
    expect(scalarBytes(short)).toEqual(Buffer.concat([Buffer.of(0), short]));
    const full = Buffer.alloc(32, 0xcd);
    expect(scalarBytes(full)).toBe(full);
    const long = Buffer.alloc(33, 0xef);
    expect(scalarBytes(long)).toBe(long);
  });

  it('reads the public point and the private scalar of a key as ECDH has them', () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const scalar = scalarBytes(ecdh.getPrivateKey());
    const point = ecdh.getPublicKey();
    const key = createPrivateKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        d: scalar.toString('base64url'),
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
    expect(publicPointOf(key)).toEqual(point);
    expect(publicPointOf(key)[0]).toBe(4);
    expect(privateScalarOf(key)).toEqual(scalar);
    // cached per key object: the same buffer again
    expect(privateScalarOf(key)).toBe(privateScalarOf(key));
  });
});
