// Ephemeral-key reuse on the sender and the key-agreement cache on the recipient: what is shared, for how long,
// that every message still gets its own content key and IV, and that jose opens what the reuse produces.
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  concatKdf,
  decryptCompactJwe,
  type EnvelopeMetadata,
  EphemeralKeyReuse,
  encryptCompactJwe,
  importPrivateKey,
  importPublicKey,
  KeyAgreementCache,
  openPayload,
  type PrivateKeyRef,
  type PublicKeyRef,
  publicPemOf,
  recipientKek,
  sealPayload,
} from '@dmr/shared';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';

interface KeyPair {
  readonly privateKey: PrivateKeyRef;
  readonly publicKey: PublicKeyRef;
  readonly point: Buffer;
  readonly scalar: Buffer;
}

function makeKey(): KeyPair {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKey = importPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const jwk = pair.privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return { privateKey, publicKey: importPublicKey(publicPemOf(privateKey)), point, scalar: Buffer.from(jwk.d ?? '', 'base64url') };
}

function segments(jwe: string) {
  const [header = '', encryptedKey, iv, ciphertext, tag] = jwe.split('.');
  return { epk: (decodeProtectedHeader(jwe).epk as { x: string; y: string }).x, header, encryptedKey, iv, ciphertext, tag };
}

const encoder = new TextEncoder();
const ALG = 'ECDH-ES+A256KW';

describe('EphemeralKeyReuse', () => {
  it('keeps one ephemeral key per recipient for maxAgeMs, then starts a new one', () => {
    let nowMs = 0;
    const reuse = new EphemeralKeyReuse({ maxAgeMs: 1000, now: () => nowMs });
    const [bob, carol] = [makeKey(), makeKey()];

    const first = reuse.kekFor(bob.point);
    nowMs = 999;
    expect(reuse.kekFor(bob.point)).toBe(first);
    const forCarol = reuse.kekFor(carol.point);
    expect(forCarol.epk.x).not.toBe(first.epk.x);
    nowMs = 1000;
    const renewed = reuse.kekFor(bob.point);
    expect(renewed.epk.x).not.toBe(first.epk.x);
    expect(renewed.kek.equals(first.kek)).toBe(false);
    // carol's key started at 999, so it is still current at 1000
    expect(reuse.kekFor(carol.point)).toBe(forCarol);
  });

  it('overwrites a key-encryption key when its window ends, even without another message', async () => {
    const reuse = new EphemeralKeyReuse({ maxAgeMs: 20 });
    const bob = makeKey();
    const first = reuse.kekFor(bob.point);
    const copy = Buffer.from(first.kek);
    await expect.poll(() => first.kek.equals(Buffer.alloc(32)), { timeout: 2000 }).toBe(true);
    expect(copy.equals(Buffer.alloc(32))).toBe(false);
    expect(reuse.kekFor(bob.point).epk.x).not.toBe(first.epk.x);
  });

  it('with maxAgeMs 0 gives every message its own ephemeral key', () => {
    const reuse = new EphemeralKeyReuse({ maxAgeMs: 0, now: () => 0 });
    const bob = makeKey();
    const epks = new Set(Array.from({ length: 5 }, () => reuse.kekFor(bob.point).epk.x));
    expect(epks.size).toBe(5);
  });

  it('derives the key-encryption key the recipient derives from the epk', () => {
    const reuse = new EphemeralKeyReuse({ maxAgeMs: 1000 });
    const bob = makeKey();
    const { epk, kek } = reuse.kekFor(bob.point);
    expect(recipientKek(bob.scalar, { epk }).equals(kek)).toBe(true);
  });

  it('shares the epk between messages, never the content key, IV or wrapped key; jose opens each', async () => {
    const reuse = new EphemeralKeyReuse({ maxAgeMs: 60_000 });
    const bob = makeKey();
    const sealed = ['one', 'two', 'three'].map((text) =>
      encryptCompactJwe(encoder.encode(text), ALG, {}, bob.publicKey, { ephemeralKeys: reuse }),
    );
    const parts = sealed.map(segments);

    expect(new Set(parts.map((part) => part.epk)).size).toBe(1);
    expect(new Set(parts.map((part) => part.encryptedKey)).size).toBe(3);
    expect(new Set(parts.map((part) => part.iv)).size).toBe(3);
    const opened = await Promise.all(
      sealed.map(async (jwe) => new TextDecoder().decode((await compactDecrypt(jwe, bob.privateKey.key)).plaintext)),
    );
    expect(opened).toEqual(['one', 'two', 'three']);
  });
});

describe('KeyAgreementCache', () => {
  it('gives the key derived afresh, and the same key again for a known epk', () => {
    const cache = new KeyAgreementCache();
    const bob = makeKey();
    const { epk, kek } = new EphemeralKeyReuse({ maxAgeMs: 0 }).kekFor(bob.point);

    const first = cache.kekFor(bob.scalar, { epk });
    expect(first.equals(kek)).toBe(true);
    expect(cache.kekFor(bob.scalar, { epk })).toBe(first);
  });

  it('keeps agreements apart per private key and per apu/apv', () => {
    const cache = new KeyAgreementCache();
    const [bob, mallory] = [makeKey(), makeKey()];
    const { epk } = new EphemeralKeyReuse({ maxAgeMs: 0 }).kekFor(bob.point);

    const forBob = cache.kekFor(bob.scalar, { epk });
    expect(cache.kekFor(mallory.scalar, { epk }).equals(forBob)).toBe(false);
    const withApu = cache.kekFor(bob.scalar, { epk, apu: 'QWxpY2U' });
    expect(withApu.equals(forBob)).toBe(false);
    expect(withApu.equals(recipientKek(bob.scalar, { epk, apu: 'QWxpY2U' }))).toBe(true);
  });

  it('refuses on a cache hit what it refuses on a miss: a malformed epk, apu or apv', () => {
    const cache = new KeyAgreementCache();
    const bob = makeKey();
    const { epk } = new EphemeralKeyReuse({ maxAgeMs: 0 }).kekFor(bob.point);
    cache.kekFor(bob.scalar, { epk });

    const malformed = [
      { epk: { ...epk, x: [epk.x] } },
      { epk: { ...epk, kty: 'RSA' } },
      { epk: { ...epk, crv: 'P-384' } },
      { epk, apu: null },
      { epk, apv: 7 },
    ];
    for (const header of malformed) {
      expect(() => recipientKek(bob.scalar, header)).toThrow();
      expect(() => cache.kekFor(bob.scalar, header)).toThrow();
    }
  });

  it('never caches a point that is not on the curve', () => {
    const cache = new KeyAgreementCache();
    const bob = makeKey();
    const { epk } = new EphemeralKeyReuse({ maxAgeMs: 0 }).kekFor(bob.point);
    const offCurve = { ...epk, y: Buffer.alloc(32, 1).toString('base64url') };

    expect(() => cache.kekFor(bob.scalar, { epk: offCurve })).toThrow();
    expect(() => cache.kekFor(bob.scalar, { epk: offCurve })).toThrow();
  });

  it('holds at most maxEntries per private key, dropping the oldest', () => {
    const cache = new KeyAgreementCache(2);
    const bob = makeKey();
    const fresh = new EphemeralKeyReuse({ maxAgeMs: 0 });
    const epks = [fresh.kekFor(bob.point).epk, fresh.kekFor(bob.point).epk, fresh.kekFor(bob.point).epk];
    const keks = epks.map((epk) => cache.kekFor(bob.scalar, { epk }));

    expect(cache.kekFor(bob.scalar, { epk: epks[2] })).toBe(keks[2]);
    expect(cache.kekFor(bob.scalar, { epk: epks[1] })).toBe(keks[1]);
    const again = cache.kekFor(bob.scalar, { epk: epks[0] });
    expect(again).not.toBe(keks[0]);
    expect(again.equals(keks[0] as Buffer)).toBe(true);
  });
});

describe('envelope with ephemeral-key reuse on both sides', () => {
  const metadata: EnvelopeMetadata = {
    id: 'msg-1',
    senderId: 'agent-a',
    recipientId: 'agent-b',
    type: 'ChatMessage',
    timestamp: '2024-01-15T10:30:00.000Z',
  };

  it('opens every message, refuses one whose wrapped key was swapped, and agrees with the plain path', async () => {
    const [alice, bob] = [makeKey(), makeKey()];
    const sender = { ephemeralKeys: new EphemeralKeyReuse({ maxAgeMs: 60_000 }) };
    const options = { recipientKey: bob.privateKey, senderKey: alice.publicKey, allowUnboundMetadata: false };
    const recipient = { ...options, agreements: { agreedKeys: new KeyAgreementCache() } };
    const first = await sealPayload({ ...metadata, id: 'm1' }, { text: 'one' }, alice.privateKey, bob.publicKey, sender);
    const second = await sealPayload({ ...metadata, id: 'm2' }, { text: 'two' }, alice.privateKey, bob.publicKey, sender);

    expect(await openPayload(first, { ...metadata, id: 'm1' }, recipient)).toEqual({ ok: true, value: { text: 'one' } });
    expect(await openPayload(second, { ...metadata, id: 'm2' }, recipient)).toEqual({ ok: true, value: { text: 'two' } });
    expect(await openPayload(second, { ...metadata, id: 'm2' }, options)).toEqual({ ok: true, value: { text: 'two' } });
    // same epk, so the KEK matches, but m1's wrapped key unwraps to m1's content key: the tag check fails
    const [h2, , iv2, c2, t2] = second.split('.');
    const spliced = [h2, first.split('.')[1], iv2, c2, t2].join('.');
    expect(await openPayload(spliced, { ...metadata, id: 'm2' }, recipient)).toMatchObject({
      ok: false,
      code: 'DMR_CRYPTO_DECRYPT_FAILED',
    });
    expect(() => decryptCompactJwe(spliced, bob.privateKey, [ALG], recipient.agreements)).toThrow();
  });
});

describe('key agreement input: the reason for each malformed epk, apu or apv', () => {
  const bob = makeKey();
  const { epk } = new EphemeralKeyReuse({ maxAgeMs: 0 }).kekFor(bob.point);
  const cases: [string, Record<string, unknown>, string][] = [
    ['no epk', {}, 'epk is missing'],
    ['a null epk', { epk: null }, 'epk is missing'],
    ['a string epk', { epk: 'x' }, 'epk is missing'],
    ['an RSA epk', { epk: { ...epk, kty: 'RSA' } }, 'epk is not a P-256 public key'],
    ['a P-384 epk', { epk: { ...epk, crv: 'P-384' } }, 'epk is not a P-256 public key'],
    ['a numeric x', { epk: { ...epk, x: 1 } }, 'epk is not a P-256 public key'],
    ['a numeric y', { epk: { ...epk, y: 1 } }, 'epk is not a P-256 public key'],
    ['a numeric apu', { epk, apu: 1 }, 'apu and apv must be strings'],
    ['a numeric apv', { epk, apv: 1 }, 'apu and apv must be strings'],
    ['a short x', { epk: { ...epk, x: Buffer.alloc(31, 1).toString('base64url') } }, 'epk coordinates have the wrong length'],
    ['a long y', { epk: { ...epk, y: Buffer.alloc(33, 1).toString('base64url') } }, 'epk coordinates have the wrong length'],
    ['an x that is not base64url', { epk: { ...epk, x: 'a+b' } }, 'epk.x is not base64url'],
    ['a y that is not base64url', { epk: { ...epk, y: 'a+b' } }, 'epk.y is not base64url'],
    ['an apu that is not base64url', { epk, apu: 'a+b' }, 'apu is not base64url'],
    ['an apv that is not base64url', { epk, apv: 'a+b' }, 'apv is not base64url'],
  ];

  for (const [what, header, reason] of cases) {
    it(`refuses ${what}: "${reason}", with and without the cache`, () => {
      expect(() => recipientKek(bob.scalar, header)).toThrow(reason);
      expect(() => new KeyAgreementCache().kekFor(bob.scalar, header)).toThrow(reason);
    });
  }

  it('treats an empty apu/apv as absent, as RFC 7518 does (both encode zero bytes)', () => {
    expect(recipientKek(bob.scalar, { epk, apu: '', apv: '' }).equals(recipientKek(bob.scalar, { epk }))).toBe(true);
  });
});

describe('concatKdf', () => {
  const z = Buffer.alloc(32, 7);
  const otherInfo = (keyBits: number) => {
    const prefixed = (data: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, data.length]), data]);
    const bits = Buffer.alloc(4);
    bits.writeUInt32BE(keyBits);
    return Buffer.concat([prefixed(Buffer.from('ECDH-ES+A256KW')), prefixed(Buffer.from('A')), prefixed(Buffer.from('B')), bits]);
  };
  const round = (counter: number, keyBits: number) =>
    createHash('sha256')
      .update(Buffer.from([0, 0, 0, counter]))
      .update(z)
      .update(otherInfo(keyBits))
      .digest();

  it('is one SHA-256 round for 256 bits and two, counted from 1, for 512 bits', () => {
    expect(concatKdf(z, 256, 'ECDH-ES+A256KW', Buffer.from('A'), Buffer.from('B')).equals(round(1, 256))).toBe(true);
    const long = concatKdf(z, 512, 'ECDH-ES+A256KW', Buffer.from('A'), Buffer.from('B'));
    expect(long.equals(Buffer.concat([round(1, 512), round(2, 512)]))).toBe(true);
  });

  it('cuts the last round to the bits asked for', () => {
    const short = concatKdf(z, 128, 'ECDH-ES+A256KW', Buffer.from('A'), Buffer.from('B'));
    expect(short.equals(round(1, 128).subarray(0, 16))).toBe(true);
  });
});

describe('EphemeralKeyReuse retirement', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a window's timer that fires after its key was replaced leaves the new key in place", () => {
    vi.useFakeTimers();
    let nowMs = 0;
    const reuse = new EphemeralKeyReuse({ maxAgeMs: 20, now: () => nowMs });
    const bob = makeKey();
    const first = reuse.kekFor(bob.point);
    vi.advanceTimersByTime(10);
    nowMs = 20;
    const second = reuse.kekFor(bob.point);
    expect(second).not.toBe(first);
    expect(first.kek.equals(Buffer.alloc(32))).toBe(true);
    vi.advanceTimersByTime(10); // the first key's timer fires now, the second's 10 ms later
    nowMs = 25;
    expect(reuse.kekFor(bob.point)).toBe(second);
    expect(second.kek.equals(Buffer.alloc(32))).toBe(false);
  });

  it('never hands out a key its timer has overwritten, even when the injected clock lags behind', () => {
    vi.useFakeTimers();
    const reuse = new EphemeralKeyReuse({ maxAgeMs: 20, now: () => 0 });
    const bob = makeKey();
    const first = reuse.kekFor(bob.point);
    vi.advanceTimersByTime(20);
    expect(first.kek.equals(Buffer.alloc(32))).toBe(true);
    const next = reuse.kekFor(bob.point);
    expect(next).not.toBe(first);
    expect(next.kek.equals(Buffer.alloc(32))).toBe(false);
  });
});
