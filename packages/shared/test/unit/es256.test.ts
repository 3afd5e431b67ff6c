import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  type Es256,
  es256,
  importPrivateKey,
  importPublicKey,
  loadNativeEs256,
  nodeEs256,
  signCompactJws,
  verifyCompactJws,
} from '@dmr/shared';
import { CompactSign, compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';

const native = loadNativeEs256();

function p256() {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

describe('ES256 backends', () => {
  it('the native addon is built and in use (npm test builds it; a missing toolchain shows up here)', () => {
    expect(native, '@dmr/native-ecdh did not load, lacks ES256 or failed its self-check: run `npm run build:native`').toBeDefined();
    expect(es256.backend).toBe('native');
  });

  const backends: Array<[string, Es256]> = [
    ['node:crypto', nodeEs256],
    ['native', native ?? nodeEs256],
  ];

  it.each(backends)('%s: signatures are 64-byte R ‖ S that node:crypto verifies, and it verifies node:crypto’s', (_name, backend) => {
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = p256();
      const data = Buffer.from(`message ${i} `.repeat(i * 20));
      const ours = backend.sign(privateKey, data);
      expect(ours).toHaveLength(64);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, ours)).toBe(true);
      const theirs = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(backend.verify(publicKey, data, theirs)).toBe(true);
    }
  });

  it.each(backends)('%s: refuses other data, another key, a flipped bit, a wrong length and zero R/S', (_name, backend) => {
    const { privateKey, publicKey } = p256();
    const data = Buffer.from('the signed bytes');
    const signature = backend.sign(privateKey, data);
    expect(backend.verify(publicKey, Buffer.from('the signed bytez'), signature)).toBe(false);
    expect(backend.verify(p256().publicKey, data, signature)).toBe(false);
    for (const index of [0, 31, 32, 63]) {
      const flipped = Buffer.from(signature);
      flipped[index] = (flipped[index] as number) ^ 1;
      expect(backend.verify(publicKey, data, flipped)).toBe(false);
    }
    expect(backend.verify(publicKey, data, signature.subarray(0, 63))).toBe(false);
    expect(backend.verify(publicKey, data, Buffer.alloc(64))).toBe(false);
  });

  it('signatures are randomised (a fresh nonce each time)', () => {
    const { privateKey } = p256();
    const data = Buffer.from('same bytes');
    expect(es256.sign(privateKey, data).equals(es256.sign(privateKey, data))).toBe(false);
  });

  it('compact JWS through the backend in use interoperates with jose both ways', async () => {
    const { privateKey, publicKey } = p256();
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const payload = Buffer.from('{"data":"õun"}');
    const ours = signCompactJws(payload, { alg: 'ES256', kid: 'a' }, importPrivateKey(privatePem));
    expect(Buffer.from((await compactVerify(ours, publicKey)).payload).equals(payload)).toBe(true);
    const theirs = await new CompactSign(payload).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    expect(verifyCompactJws(theirs, importPublicKey(publicPem), ['ES256']).equals(payload)).toBe(true);
  });
});

describe('@dmr/native-ecdh ES256 input checks', () => {
  const addon = createRequire(import.meta.url)('@dmr/native-ecdh') as {
    es256Sign(scalar: unknown, data: unknown): Buffer;
    es256Verify(point: unknown, data: unknown, signature: unknown): boolean;
  };
  const { privateKey } = p256();
  const jwk = privateKey.export({ format: 'jwk' });
  const scalar = Buffer.from(jwk.d ?? '', 'base64url');
  const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  const data = Buffer.from('x');

  it('names what is wrong with an argument', () => {
    expect(() => addon.es256Sign(scalar.subarray(1), data)).toThrow('private scalar must be a 32-byte Buffer');
    expect(() => addon.es256Sign(scalar, 'x')).toThrow('data must be a Buffer');
    expect(() => addon.es256Verify(point.subarray(1), data, Buffer.alloc(64))).toThrow('public point must be a 65-byte Buffer');
    expect(() => addon.es256Verify(point, data, Buffer.alloc(65))).toThrow('signature must be a 64-byte Buffer');
    const untyped = addon.es256Sign as (...args: unknown[]) => Buffer;
    expect(() => untyped(scalar)).toThrow('es256Sign takes 2 arguments');
  });

  it('refuses an off-curve public point and a zero private scalar', () => {
    const bad = Buffer.from(point);
    bad[64] = (bad[64] as number) ^ 1;
    expect(() => addon.es256Verify(bad, data, Buffer.alloc(64, 1))).toThrow('public point is not a valid P-256 point');
    expect(() => addon.es256Sign(Buffer.alloc(32), data)).toThrow();
  });
});
