// Which keys DMR accepts and the reason it gives for the others, PEM as env vars carry it, and the public key ring
// that re-imports a key only when its PEM changes.
import { createSecretKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { DmrError, importPrivateKey, importPublicKey, keyKindOf, normalisePem, PublicKeyRing } from '@dmr/shared';
import { TestCa, testKeyPair } from '@dmr/testkit';
import { describe, expect, it } from 'vitest';

function refusalOf(action: () => unknown): { code: string; message: string; cause: unknown } {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DmrError);
    const { code, message, cause } = error as DmrError;
    return { code, message, cause };
  }
  throw new Error('expected a refusal');
}

const pem = {
  private: (pair: ReturnType<typeof generateKeyPairSync>) => pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  public: (pair: ReturnType<typeof generateKeyPairSync>) => pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};

describe('keyKindOf', () => {
  it('takes RSA from 2048 bits and EC P-256', () => {
    expect(keyKindOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)).toBe('rsa');
    expect(keyKindOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toBe('ec-p256');
  });

  it('names the length of a short RSA key and the type of anything else', () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(refusalOf(() => keyKindOf(short))).toMatchObject({
      code: 'DMR_CRYPTO_KEY_INVALID',
      message: 'RSA key of 1024 bits is too short; 2048 is the minimum',
    });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    expect(refusalOf(() => keyKindOf(p384)).message).toBe('unsupported key type ec; use RSA or EC P-256');
    const ed25519 = generateKeyPairSync('ed25519').publicKey;
    expect(refusalOf(() => keyKindOf(ed25519)).message).toBe('unsupported key type ed25519; use RSA or EC P-256');
    expect(refusalOf(() => keyKindOf(createSecretKey(Buffer.alloc(32)))).message).toBe('unsupported key type unknown; use RSA or EC P-256');
  });
});

describe('normalisePem', () => {
  it('turns every literal \\n into a newline and trims', () => {
    expect(normalisePem('  -----BEGIN X-----\\nAA\\nBB\\n-----END X-----\\n ')).toBe('-----BEGIN X-----\nAA\nBB\n-----END X-----');
    expect(normalisePem('\n-----BEGIN X-----\nAA\n-----END X-----\n\n')).toBe('-----BEGIN X-----\nAA\n-----END X-----');
  });
});

describe('importPrivateKey / importPublicKey', () => {
  it('import keys with literal \\n, and a certificate for its key', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(importPrivateKey(pem.private(pair).replace(/\n/g, '\\n')).kind).toBe('ec-p256');
    const ref = importPublicKey(pem.public(pair).replace(/\n/g, '\\n'));
    expect(ref.key.equals(pair.publicKey)).toBe(true);
    const keys = testKeyPair('ec');
    const certificate = await (await TestCa.create('Key CA')).agentCertificate('agent-k', keys.publicKey);
    expect(importPublicKey(certificate).key.equals(new X509Certificate(certificate).publicKey)).toBe(true);
  });

  it('say what did not parse, keeping the cause', () => {
    const privateRefusal = refusalOf(() => importPrivateKey('not a key'));
    expect(privateRefusal).toMatchObject({ code: 'DMR_CRYPTO_KEY_INVALID', message: 'private key is not a valid PEM key' });
    expect(privateRefusal.cause).toBeInstanceOf(Error);
    const publicRefusal = refusalOf(() => importPublicKey('not a key'));
    expect(publicRefusal).toMatchObject({ code: 'DMR_CRYPTO_KEY_INVALID', message: 'public key is not a valid PEM key or certificate' });
    expect(publicRefusal.cause).toBeInstanceOf(Error);
  });

  it("pass on the key-kind reason rather than calling a parsed key's PEM invalid", () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(refusalOf(() => importPrivateKey(pem.private(short))).message).toBe('RSA key of 1024 bits is too short; 2048 is the minimum');
    expect(refusalOf(() => importPublicKey(pem.public(short))).message).toBe('RSA key of 1024 bits is too short; 2048 is the minimum');
  });
});

describe('PublicKeyRing', () => {
  const first = pem.public(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const second = pem.public(generateKeyPairSync('ec', { namedCurve: 'P-256' }));

  it('re-imports a key only when its PEM changes', () => {
    const ring = new PublicKeyRing();
    const ref = ring.set('agent-a', first);
    expect(ring.set('agent-a', first)).toBe(ref);
    const changed = ring.set('agent-a', second);
    expect(changed).not.toBe(ref);
    expect(ring.get('agent-a')).toBe(changed);
  });

  it('keeps the old key when a new PEM does not import', () => {
    const ring = new PublicKeyRing();
    const ref = ring.set('agent-a', first);
    expect(() => ring.set('agent-a', 'garbage')).toThrow(DmrError);
    expect(ring.get('agent-a')).toBe(ref);
  });

  it('forgets one id, or every id not retained', () => {
    const ring = new PublicKeyRing();
    for (const id of ['a', 'b', 'c']) ring.set(id, first);
    ring.delete('a');
    expect(ring.get('a')).toBeUndefined();
    ring.retain(new Set(['b']));
    expect(ring.get('b')).toBeDefined();
    expect(ring.get('c')).toBeUndefined();
  });
});
