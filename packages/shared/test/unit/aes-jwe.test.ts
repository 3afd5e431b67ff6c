import { createCipheriv, createDecipheriv, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type AesJwe, aesJwe, loadNativeAesJwe, nodeAesJwe } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

const native = loadNativeAesJwe();

describe('A256GCM and A256KW backends', () => {
  it('the native addon is built and in use (npm test builds it; a missing toolchain shows up here)', () => {
    expect(native, '@dmr/native-ecdh did not load, lacks AES or failed its self-check: run `npm run build:native`').toBeDefined();
    expect(aesJwe.backend).toBe('native');
  });

  const backends: Array<[string, AesJwe]> = [
    ['node:crypto', nodeAesJwe],
    ['native', native ?? nodeAesJwe],
  ];

  it.each(backends)('%s: GCM output is what node:crypto’s Cipheriv produces, and it opens Decipheriv’s input', (_name, backend) => {
    for (const size of [0, 1, 15, 16, 17, 1000, 70_000]) {
      const [key, iv, aad, data] = [randomBytes(32), randomBytes(12), randomBytes(size % 50), randomBytes(size)];
      const { ciphertext, tag } = backend.gcmSeal(key, iv, aad, data);
      const reference = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
      expect(ciphertext.equals(Buffer.concat([reference.update(data), reference.final()]))).toBe(true);
      expect(tag.equals(reference.getAuthTag())).toBe(true);
      expect(backend.gcmOpen(key, iv, aad, ciphertext, tag).equals(data)).toBe(true);
      const check = createDecipheriv('aes-256-gcm', key, iv).setAAD(aad).setAuthTag(tag);
      expect(Buffer.concat([check.update(ciphertext), check.final()]).equals(data)).toBe(true);
    }
  });

  it.each(backends)('%s: GCM refuses a changed tag, ciphertext, aad, key or iv', (_name, backend) => {
    const [key, iv, aad, data] = [randomBytes(32), randomBytes(12), Buffer.from('header'), randomBytes(64)];
    const { ciphertext, tag } = backend.gcmSeal(key, iv, aad, data);
    const flip = (bytes: Buffer) => {
      const copy = Buffer.from(bytes);
      copy[0] = (copy[0] as number) ^ 1;
      return copy;
    };
    expect(() => backend.gcmOpen(key, iv, aad, ciphertext, flip(tag))).toThrow();
    expect(() => backend.gcmOpen(key, iv, aad, flip(ciphertext), tag)).toThrow();
    expect(() => backend.gcmOpen(key, iv, flip(aad), ciphertext, tag)).toThrow();
    expect(() => backend.gcmOpen(flip(key), iv, aad, ciphertext, tag)).toThrow();
    expect(() => backend.gcmOpen(key, flip(iv), aad, ciphertext, tag)).toThrow();
  });

  it.each(backends)('%s: key wrap matches RFC 3394 §4.6 (256-bit key, 256-bit KEK) and unwraps it', (_name, backend) => {
    const kek = Buffer.from('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', 'hex');
    const key = Buffer.from('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F', 'hex');
    const wrapped = backend.keyWrap(kek, key);
    expect(wrapped.toString('hex').toUpperCase()).toBe('28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21');
    expect(backend.keyUnwrap(kek, wrapped).equals(key)).toBe(true);
    const tampered = Buffer.from(wrapped);
    tampered[39] = (tampered[39] as number) ^ 1;
    expect(() => backend.keyUnwrap(kek, tampered)).toThrow();
    expect(() => backend.keyUnwrap(randomBytes(32), wrapped)).toThrow();
  });
});

describe('native AES functions', () => {
  const addon = createRequire(import.meta.url)('@dmr/native-ecdh') as {
    aesGcmSeal(...args: unknown[]): Buffer;
    aesGcmOpen(...args: unknown[]): Buffer;
    aesKeyWrap(...args: unknown[]): Buffer;
    aesKeyUnwrap(...args: unknown[]): Buffer;
  };
  const [key, iv] = [randomBytes(32), randomBytes(12)];

  it('refuses arguments of the wrong kind or length, naming them', () => {
    expect(() => addon.aesGcmSeal(key.subarray(1), iv, Buffer.alloc(0), Buffer.alloc(1))).toThrow('key must be a 32-byte Buffer');
    expect(() => addon.aesGcmSeal(key, Buffer.alloc(16), Buffer.alloc(0), Buffer.alloc(1))).toThrow('iv must be a 12-byte Buffer');
    expect(() => addon.aesGcmSeal(key, iv, 'aad', Buffer.alloc(1))).toThrow('aad must be a Buffer');
    expect(() => addon.aesGcmOpen(key, iv, Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(15))).toThrow('tag must be a 16-byte Buffer');
    expect(() => addon.aesKeyWrap(key, key.subarray(8))).toThrow('key must be a 32-byte Buffer');
    expect(() => addon.aesKeyUnwrap(key, Buffer.alloc(48))).toThrow('wrapped key must be a 40-byte Buffer');
    expect(() => addon.aesKeyWrap(key)).toThrow('aesKeyWrap takes 2 arguments');
  });

  it('leaves no OpenSSL error behind for node:crypto after a refusal', () => {
    const { ciphertext } = nodeAesJwe.gcmSeal(key, iv, Buffer.alloc(0), Buffer.from('x'));
    for (let i = 0; i < 5; i++) {
      expect(() => addon.aesGcmOpen(key, iv, Buffer.alloc(0), ciphertext, Buffer.alloc(16))).toThrow('AES-GCM authentication failed');
      expect(() => addon.aesKeyUnwrap(key, Buffer.alloc(40))).toThrow('key unwrap failed');
    }
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(createSign('sha256').update('after').sign(privateKey)).toBeInstanceOf(Buffer);
  });
});
