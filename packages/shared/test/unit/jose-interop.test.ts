// The node:crypto JOSE fast path against jose, both ways: what we seal jose opens, what jose seals we open
// (RSA and EC P-256), and everything tampered with, mis-keyed or algorithm-confused is refused.
import { generateKeyPairSync } from 'node:crypto';
import {
  concatKdf,
  decryptCompactJwe,
  type EnvelopeMetadata,
  encryptCompactJwe,
  importPrivateKey,
  importPublicKey,
  openPayload,
  type PrivateKeyRef,
  type PublicKeyRef,
  publicPemOf,
  sealPayload,
  signCompactJws,
  UnsupportedJoseFeature,
  verifyCompactJws,
} from '@dmr/shared';
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';

interface KeyPair {
  readonly privateKey: PrivateKeyRef;
  readonly publicKey: PublicKeyRef;
}

function makeKey(kind: 'rsa' | 'ec'): KeyPair {
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKey = importPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  return { privateKey, publicKey: importPublicKey(publicPemOf(privateKey)) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const metadata: EnvelopeMetadata = {
  id: 'msg-42',
  senderId: 'agent-a',
  recipientId: 'agent-b',
  type: 'ChatMessage',
  timestamp: '2024-01-15T10:30:00.000Z',
};
const data = { chat: { id: 'c1', created: '2024-01-15T10:00:00.000Z' }, messages: [{ content: 'õun ja šokolaad 🍫 secret' }] };
const ALGS = {
  rsa: { sign: 'RS256', keyWrap: 'RSA-OAEP' },
  ec: { sign: 'ES256', keyWrap: 'ECDH-ES+A256KW' },
} as const;

/** Seals the way jose would (and the way seed 003's agents do): CompactSign inside CompactEncrypt. */
async function joseSeal(kind: 'rsa' | 'ec', sender: KeyPair, recipient: KeyPair, claims: unknown, keyWrap: string = ALGS[kind].keyWrap) {
  const jws = await new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: ALGS[kind].sign, kid: 'agent-a' })
    .sign(sender.privateKey.key);
  return new CompactEncrypt(encoder.encode(jws))
    .setProtectedHeader({ alg: keyWrap, enc: 'A256GCM', cty: 'JWT', kid: 'agent-b' })
    .encrypt(recipient.publicKey.key);
}

/** Replaces segment `index` of a compact serialisation. */
function withSegment(compact: string, index: number, replace: (segment: string) => string): string {
  const parts = compact.split('.');
  parts[index] = replace(parts[index] ?? '');
  return parts.join('.');
}

/** Flips one bit in the middle of a base64url segment (keeps it valid base64url). */
function flipBit(segment: string): string {
  const bytes = Buffer.from(segment, 'base64url');
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

describe.each(['rsa', 'ec'] as const)('JOSE interoperability with %s keys', (kind) => {
  const sender = makeKey(kind);
  const recipient = makeKey(kind);
  const options = { recipientKey: recipient.privateKey, senderKey: sender.publicKey, allowUnboundMetadata: false };

  it('our seal opens with jose (compactDecrypt, then compactVerify) to the signed claims', async () => {
    const jwe = await sealPayload(metadata, data, sender.privateKey, recipient.publicKey);
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg: ALGS[kind].keyWrap, enc: 'A256GCM', cty: 'JWT', kid: 'agent-b' });
    const { plaintext } = await compactDecrypt(jwe, recipient.privateKey.key, { keyManagementAlgorithms: [ALGS[kind].keyWrap] });
    const jws = decoder.decode(plaintext);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: ALGS[kind].sign, kid: 'agent-a' });
    const { payload } = await compactVerify(jws, sender.publicKey.key, { algorithms: [ALGS[kind].sign] });
    expect(JSON.parse(decoder.decode(payload))).toEqual({ ...metadata, data });
  });

  it("jose's seal opens with ours", async () => {
    const jwe = await joseSeal(kind, sender, recipient, { ...metadata, data });
    expect(await openPayload(jwe, metadata, options)).toEqual({ ok: true, value: data });
  });

  it('compact JWS both ways', async () => {
    const ours = signCompactJws(encoder.encode('hello'), { alg: ALGS[kind].sign, kid: 'k' }, sender.privateKey);
    const verified = await compactVerify(ours, sender.publicKey.key, { algorithms: [ALGS[kind].sign] });
    expect(decoder.decode(verified.payload)).toBe('hello');
    const theirs = await new CompactSign(encoder.encode('hi')).setProtectedHeader({ alg: ALGS[kind].sign }).sign(sender.privateKey.key);
    expect(verifyCompactJws(theirs, sender.publicKey, [ALGS[kind].sign]).toString()).toBe('hi');
  });

  it('compact JWE both ways, each message with a fresh content key and iv', async () => {
    const first = encryptCompactJwe(encoder.encode('one'), ALGS[kind].keyWrap, { kid: 'b' }, recipient.publicKey);
    const second = encryptCompactJwe(encoder.encode('one'), ALGS[kind].keyWrap, { kid: 'b' }, recipient.publicKey);
    expect(first.split('.')[1]).not.toBe(second.split('.')[1]);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
    expect(decoder.decode((await compactDecrypt(first, recipient.privateKey.key)).plaintext)).toBe('one');
    const theirs = await new CompactEncrypt(encoder.encode('two'))
      .setProtectedHeader({ alg: ALGS[kind].keyWrap, enc: 'A256GCM' })
      .encrypt(recipient.publicKey.key);
    expect(decryptCompactJwe(theirs, recipient.privateKey, [ALGS[kind].keyWrap]).toString()).toBe('two');
  });

  it.each([
    ['protected header', 0],
    ['encrypted key', 1],
    ['iv', 2],
    ['ciphertext', 3],
    ['tag', 4],
  ])('refuses a JWE whose %s was tampered with (DMR_CRYPTO_DECRYPT_FAILED)', async (_name, index) => {
    const jwe = await sealPayload(metadata, data, sender.privateKey, recipient.publicKey);
    const tampered = withSegment(jwe, index, flipBit);
    const opened = await openPayload(tampered, metadata, options);
    expect(opened.ok ? 'ok' : opened.code).toBe('DMR_CRYPTO_DECRYPT_FAILED');
    await expect(compactDecrypt(tampered, recipient.privateKey.key)).rejects.toThrow();
  });

  it('refuses a tampered signature inside a valid JWE (DMR_CRYPTO_SIGNATURE_INVALID)', async () => {
    const jws = await new CompactSign(encoder.encode(JSON.stringify({ ...metadata, data })))
      .setProtectedHeader({ alg: ALGS[kind].sign })
      .sign(sender.privateKey.key);
    const jwe = await new CompactEncrypt(encoder.encode(withSegment(jws, 2, flipBit)))
      .setProtectedHeader({ alg: ALGS[kind].keyWrap, enc: 'A256GCM' })
      .encrypt(recipient.publicKey.key);
    const opened = await openPayload(jwe, metadata, options);
    expect(opened.ok ? 'ok' : opened.code).toBe('DMR_CRYPTO_SIGNATURE_INVALID');
  });

  it('refuses the wrong recipient key and the wrong sender key', async () => {
    const jwe = await sealPayload(metadata, data, sender.privateKey, recipient.publicKey);
    const stranger = makeKey(kind);
    const wrongRecipient = await openPayload(jwe, metadata, { ...options, recipientKey: stranger.privateKey });
    expect(wrongRecipient.ok ? 'ok' : wrongRecipient.code).toBe('DMR_CRYPTO_DECRYPT_FAILED');
    const wrongSender = await openPayload(jwe, metadata, { ...options, senderKey: stranger.publicKey });
    expect(wrongSender.ok ? 'ok' : wrongSender.code).toBe('DMR_CRYPTO_SIGNATURE_INVALID');
  });

  it('refuses a key of the other kind (algorithm confusion)', async () => {
    const other = makeKey(kind === 'rsa' ? 'ec' : 'rsa');
    const jwe = await sealPayload(metadata, data, sender.privateKey, recipient.publicKey);
    const opened = await openPayload(jwe, metadata, { ...options, recipientKey: other.privateKey });
    expect(opened.ok ? 'ok' : opened.code).toBe('DMR_CRYPTO_DECRYPT_FAILED');
    const jws = signCompactJws(encoder.encode('x'), { alg: ALGS[kind].sign }, sender.privateKey);
    expect(() => verifyCompactJws(jws, other.publicKey, ['RS256', 'PS256', 'ES256'])).toThrow(/not allowed/);
  });

  it('hands headers it does not implement to jose, which decides (unknown member accepted, crit refused)', async () => {
    const jws = signCompactJws(encoder.encode(JSON.stringify({ ...metadata, data })), { alg: ALGS[kind].sign }, sender.privateKey);
    const extra = await new CompactEncrypt(encoder.encode(jws))
      .setProtectedHeader({ alg: ALGS[kind].keyWrap, enc: 'A256GCM', 'x-trace': 'abc' })
      .encrypt(recipient.publicKey.key);
    expect(() => decryptCompactJwe(extra, recipient.privateKey, [ALGS[kind].keyWrap])).toThrow(UnsupportedJoseFeature);
    expect(await openPayload(extra, metadata, options)).toEqual({ ok: true, value: data });
    const critical = await new CompactEncrypt(encoder.encode(jws))
      .setProtectedHeader({ alg: ALGS[kind].keyWrap, enc: 'A256GCM', crit: ['x-must'], 'x-must': 1 })
      .encrypt(recipient.publicKey.key, { crit: { 'x-must': true } });
    const opened = await openPayload(critical, metadata, options);
    expect(opened.ok ? 'ok' : opened.code).toBe('DMR_CRYPTO_DECRYPT_FAILED');
  });
});

describe('RSA variants seed 003 agents may send', () => {
  const sender = makeKey('rsa');
  const recipient = makeKey('rsa');
  const options = { recipientKey: recipient.privateKey, senderKey: sender.publicKey, allowUnboundMetadata: false };

  it('opens RSA-OAEP (SHA-1) key wrapping and PS256 signatures produced by jose', async () => {
    const jws = await new CompactSign(encoder.encode(JSON.stringify({ ...metadata, data })))
      .setProtectedHeader({ alg: 'PS256' })
      .sign(sender.privateKey.key);
    const jwe = await new CompactEncrypt(encoder.encode(jws))
      .setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A256GCM' })
      .encrypt(recipient.publicKey.key);
    expect(await openPayload(jwe, metadata, options)).toEqual({ ok: true, value: data });
  });

  it('refuses algorithms DMR does not accept: A256KW / dir key management, HS256 / none signatures', async () => {
    const secret = new Uint8Array(32).fill(7);
    const direct = await new CompactEncrypt(encoder.encode('x')).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(secret);
    expect(() => decryptCompactJwe(direct, recipient.privateKey, ['RSA-OAEP-256'])).toThrow(/not allowed/);
    const hmac = await new CompactSign(encoder.encode('x')).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    expect(() => verifyCompactJws(hmac, sender.publicKey, ['RS256', 'PS256'])).toThrow(/not allowed/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('x').toString('base64url')}.`;
    expect(() => verifyCompactJws(none, sender.publicKey, ['RS256', 'PS256'])).toThrow(/not allowed/);
  });
});

describe('ECDH-ES+A256KW details', () => {
  const recipient = makeKey('ec');

  it('honours apu/apv set by jose in the Concat KDF', async () => {
    const jwe = await new CompactEncrypt(encoder.encode('with party info'))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
      .setKeyManagementParameters({ apu: encoder.encode('Alice'), apv: encoder.encode('Bob') })
      .encrypt(recipient.publicKey.key);
    expect(decryptCompactJwe(jwe, recipient.privateKey, ['ECDH-ES+A256KW']).toString()).toBe('with party info');
  });

  it('refuses an ephemeral key that is not on the curve', () => {
    const jwe = encryptCompactJwe(encoder.encode('x'), 'ECDH-ES+A256KW', {}, recipient.publicKey);
    const header = JSON.parse(Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString());
    header.epk.y = Buffer.alloc(32, 1).toString('base64url');
    const forged = withSegment(jwe, 0, () => Buffer.from(JSON.stringify(header)).toString('base64url'));
    expect(() => decryptCompactJwe(forged, recipient.privateKey, ['ECDH-ES+A256KW'])).toThrow();
  });

  it('derives the RFC 7518 appendix C test vector with the Concat KDF', () => {
    // RFC 7518 Appendix C: ECDH-ES with A128GCM, apu "Alice", apv "Bob"
    const z = Buffer.from([
      158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121,
      140, 254, 144, 196,
    ]);
    const key = concatKdf(z, 128, 'A128GCM', Buffer.from('Alice'), Buffer.from('Bob'));
    expect(key.toString('base64url')).toBe('VqqN6vgjbSBcIijNcacQGg');
  });
});
