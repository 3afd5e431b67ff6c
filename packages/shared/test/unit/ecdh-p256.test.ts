import { createECDH } from 'node:crypto';
import { createRequire } from 'node:module';
import { type EcdhP256, ecdhP256, loadNativeEcdhP256, nodeEcdhP256, scalarBytes } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

const native = loadNativeEcdhP256();

function keyPair(): { scalar: Buffer; point: Buffer } {
  const ecdh = createECDH('prime256v1');
  const point = ecdh.generateKeys();
  return { scalar: scalarBytes(ecdh.getPrivateKey()), point };
}

/** A point with a flipped bit in y: not on the curve (y² ≠ x³ − 3x + b). */
function offCurve(point: Buffer): Buffer {
  const bad = Buffer.from(point);
  bad[64] = (bad[64] as number) ^ 1;
  return bad;
}

describe('P-256 key agreement backends', () => {
  it('the native addon is built and in use (npm test builds it; a missing toolchain shows up here)', () => {
    expect(native, '@dmr/native-ecdh did not load or failed its self-check: run `npm run build:native`').toBeDefined();
    expect(ecdhP256.backend).toBe('native');
  });

  const backends: Array<[string, EcdhP256]> = [
    ['node:crypto', nodeEcdhP256],
    ['native', native ?? nodeEcdhP256],
  ];

  it.each(backends)('%s: static agreement equals the other side of node:crypto’s', (_name, backend) => {
    for (let i = 0; i < 20; i++) {
      const recipient = keyPair();
      const sender = createECDH('prime256v1');
      const senderPoint = sender.generateKeys();
      const secret = backend.agreement(recipient.scalar, senderPoint);
      expect(secret).toHaveLength(32);
      expect(secret.equals(sender.computeSecret(recipient.point))).toBe(true);
    }
  });

  it.each(backends)('%s: an ephemeral agreement is fresh each time and the recipient derives the same secret', (_name, backend) => {
    const recipient = keyPair();
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { ephemeralPoint, secret } = backend.ephemeralAgreement(recipient.point);
      expect(ephemeralPoint).toHaveLength(65);
      expect(ephemeralPoint[0]).toBe(0x04);
      expect(secret.equals(nodeEcdhP256.agreement(recipient.scalar, ephemeralPoint))).toBe(true);
      seen.add(ephemeralPoint.toString('hex'));
    }
    expect(seen.size).toBe(20);
  });

  it.each(backends)('%s: refuses a point that is not on the curve', (_name, backend) => {
    const recipient = keyPair();
    const bad = offCurve(keyPair().point);
    expect(() => backend.agreement(recipient.scalar, bad)).toThrow();
    expect(() => backend.ephemeralAgreement(bad)).toThrow();
  });
});

describe('@dmr/native-ecdh input checks', () => {
  const addon = createRequire(import.meta.url)('@dmr/native-ecdh') as {
    agreement(scalar: unknown, point: unknown): Buffer;
    ephemeralAgreement(point: unknown): Buffer;
  };
  const { scalar, point } = keyPair();

  it('names what is wrong with an argument', () => {
    expect(() => addon.agreement(scalar.subarray(1), point)).toThrow('private scalar must be a 32-byte Buffer');
    expect(() => addon.agreement('x'.repeat(32), point)).toThrow('private scalar must be a 32-byte Buffer');
    expect(() => addon.agreement(scalar, point.subarray(0, 33))).toThrow('peer point must be a 65-byte Buffer');
    expect(() => addon.ephemeralAgreement(undefined)).toThrow('peer point must be a 65-byte Buffer');
    const untyped = addon.agreement as (...args: unknown[]) => Buffer;
    expect(() => untyped(scalar)).toThrow('agreement takes 2 arguments');
  });

  it('refuses encodings other than uncompressed, and an off-curve point, with a clear message', () => {
    const compressedPrefix = Buffer.from(point);
    compressedPrefix[0] = 0x02;
    expect(() => addon.agreement(scalar, compressedPrefix)).toThrow('peer point is not a valid P-256 point');
    expect(() => addon.ephemeralAgreement(offCurve(point))).toThrow('peer point is not a valid P-256 point');
  });

  it('refuses a zero private scalar', () => {
    expect(() => addon.agreement(Buffer.alloc(32), point)).toThrow();
  });
});
