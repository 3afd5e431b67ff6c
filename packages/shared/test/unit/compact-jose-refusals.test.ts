// What the node:crypto compact JWE/JWS path refuses before it touches a key, and the reason it gives: a key of the
// wrong kind, header members the encryption sets itself, a wrong number of parts, a refused alg or enc, an IV, tag,
// content key or ES256 signature of the wrong length. Each JWE below is a real one with one part changed.
import { constants, generateKeyPairSync, publicEncrypt, randomBytes, sign, verify } from 'node:crypto';
import {
  decryptCompactJwe,
  encryptCompactJwe,
  importPrivateKey,
  importPublicKey,
  type PrivateKeyRef,
  type PublicKeyRef,
  publicPemOf,
  signCompactJws,
  verifyCompactJws,
} from '@dmr/shared';
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

const ec = makeKey('ec');
const rsa = makeKey('rsa');
const EC_ALGS = ['ECDH-ES+A256KW'];
const RSA_ALGS = ['RSA-OAEP-256', 'RSA-OAEP'];
const plaintext = new TextEncoder().encode('hello');

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const headerOf = (jwe: string): Record<string, unknown> => JSON.parse(Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString());

/** `jwe` with part `index` replaced. */
function withPart(jwe: string, index: number, value: string): string {
  const parts = jwe.split('.');
  parts[index] = value;
  return parts.join('.');
}

describe('encryptCompactJwe refusals', () => {
  it('refuses a key management algorithm that does not suit the key, naming both', () => {
    expect(() => encryptCompactJwe(plaintext, 'RSA-OAEP-256', {}, ec.publicKey)).toThrow('RSA-OAEP-256 does not suit a ec-p256 key');
    expect(() => encryptCompactJwe(plaintext, 'RSA-OAEP', {}, ec.publicKey)).toThrow('RSA-OAEP does not suit a ec-p256 key');
    expect(() => encryptCompactJwe(plaintext, 'ECDH-ES+A256KW', {}, rsa.publicKey)).toThrow('ECDH-ES+A256KW does not suit a rsa key');
  });

  it('wraps to RSA with either OAEP variant, and to P-256 with ECDH-ES+A256KW', () => {
    for (const alg of ['RSA-OAEP-256', 'RSA-OAEP'] as const) {
      const jwe = encryptCompactJwe(plaintext, alg, {}, rsa.publicKey);
      expect(headerOf(jwe)).toMatchObject({ alg, enc: 'A256GCM' });
      expect(decryptCompactJwe(jwe, rsa.privateKey, RSA_ALGS).toString()).toBe('hello');
    }
    expect(decryptCompactJwe(encryptCompactJwe(plaintext, 'ECDH-ES+A256KW', {}, ec.publicKey), ec.privateKey, EC_ALGS).toString()).toBe(
      'hello',
    );
  });

  it('refuses each header member the encryption sets itself, and keeps the others', () => {
    for (const member of ['alg', 'enc', 'epk', 'apu', 'apv']) {
      expect(() => encryptCompactJwe(plaintext, 'ECDH-ES+A256KW', { [member]: 'x' }, ec.publicKey)).toThrow(
        `header member ${member} is set by the encryption itself`,
      );
    }
    const jwe = encryptCompactJwe(plaintext, 'ECDH-ES+A256KW', { cty: 'JWT', kid: 'agent-b' }, ec.publicKey);
    expect(headerOf(jwe)).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', kid: 'agent-b' });
  });
});

describe('decryptCompactJwe refusals', () => {
  const jwe = encryptCompactJwe(plaintext, 'ECDH-ES+A256KW', {}, ec.publicKey);
  const rsaJwe = encryptCompactJwe(plaintext, 'RSA-OAEP-256', {}, rsa.publicKey);

  it('refuses anything but five parts', () => {
    expect(() => decryptCompactJwe(jwe.split('.').slice(0, 4).join('.'), ec.privateKey, EC_ALGS)).toThrow('JWE must have five parts');
    expect(() => decryptCompactJwe(`${jwe}.x`, ec.privateKey, EC_ALGS)).toThrow('JWE must have five parts');
  });

  it('refuses an alg that is missing, not in the list, or not for this key', () => {
    const header = headerOf(jwe);
    const { alg: _alg, ...withoutAlg } = header;
    expect(() => decryptCompactJwe(withPart(jwe, 0, b64(withoutAlg)), ec.privateKey, EC_ALGS)).toThrow('JWE alg undefined not allowed');
    expect(() => decryptCompactJwe(jwe, ec.privateKey, ['RSA-OAEP-256'])).toThrow('JWE alg ECDH-ES+A256KW not allowed');
    // listed by the caller, but RSA key management to an EC key is algorithm confusion
    const confused = withPart(jwe, 0, b64({ ...header, alg: 'RSA-OAEP-256' }));
    expect(() => decryptCompactJwe(confused, ec.privateKey, [...EC_ALGS, 'RSA-OAEP-256'])).toThrow('JWE alg RSA-OAEP-256 not allowed');
    const rsaConfused = withPart(rsaJwe, 0, b64({ ...headerOf(rsaJwe), alg: 'ECDH-ES+A256KW' }));
    expect(() => decryptCompactJwe(rsaConfused, rsa.privateKey, [...RSA_ALGS, ...EC_ALGS])).toThrow('JWE alg ECDH-ES+A256KW not allowed');
  });

  it('refuses any content encryption but A256GCM', () => {
    const a128 = withPart(jwe, 0, b64({ ...headerOf(jwe), enc: 'A128GCM' }));
    expect(() => decryptCompactJwe(a128, ec.privateKey, EC_ALGS)).toThrow('JWE enc A128GCM not allowed');
  });

  it('refuses an IV or a tag of the wrong length', () => {
    const shortIv = randomBytes(11).toString('base64url');
    const shortTag = randomBytes(15).toString('base64url');
    expect(() => decryptCompactJwe(withPart(jwe, 2, shortIv), ec.privateKey, EC_ALGS)).toThrow('JWE iv or tag has the wrong length');
    expect(() => decryptCompactJwe(withPart(jwe, 4, shortTag), ec.privateKey, EC_ALGS)).toThrow('JWE iv or tag has the wrong length');
  });

  it('refuses a wrapped content key that is not 256 bits', () => {
    const shortKey = publicEncrypt(
      { key: rsa.publicKey.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      randomBytes(16),
    ).toString('base64url');
    expect(() => decryptCompactJwe(withPart(rsaJwe, 1, shortKey), rsa.privateKey, RSA_ALGS)).toThrow(
      'content encryption key has the wrong length',
    );
  });

  it('names the part that is not base64url', () => {
    expect(() => decryptCompactJwe(withPart(jwe, 3, 'a+b'), ec.privateKey, EC_ALGS)).toThrow('JWE ciphertext is not base64url');
    expect(() => decryptCompactJwe(withPart(jwe, 1, 'a+b'), ec.privateKey, EC_ALGS)).toThrow('JWE encrypted key is not base64url');
    expect(() => decryptCompactJwe(withPart(jwe, 2, 'a+b'), ec.privateKey, EC_ALGS)).toThrow('JWE iv is not base64url');
    expect(() => decryptCompactJwe(withPart(jwe, 4, 'a+b'), ec.privateKey, EC_ALGS)).toThrow('JWE tag is not base64url');
    expect(() => decryptCompactJwe(withPart(jwe, 0, 'a+b'), ec.privateKey, EC_ALGS)).toThrow('JWE protected header is not base64url');
  });
});

describe('compact JWS refusals', () => {
  const payload = new TextEncoder().encode('{"data":1}');

  it('refuses a signing algorithm that does not suit the key, naming both', () => {
    expect(() => signCompactJws(payload, { alg: 'RS256' }, ec.privateKey)).toThrow('RS256 does not suit a ec-p256 key');
    expect(() => signCompactJws(payload, { alg: 'ES256' }, rsa.privateKey)).toThrow('ES256 does not suit a rsa key');
  });

  it('signs RS256 with PKCS#1 v1.5 and PS256 with PSS (salt = digest length), as RFC 7518 §3.3 and §3.5 say', () => {
    const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    const pkcs1 = { padding: constants.RSA_PKCS1_PADDING };
    for (const [alg, own, other] of [
      ['RS256', pkcs1, pss],
      ['PS256', pss, pkcs1],
    ] as const) {
      const jws = signCompactJws(payload, { alg }, rsa.privateKey);
      const [header, body, signature = ''] = jws.split('.');
      const input = Buffer.from(`${header}.${body}`);
      expect(verify('sha256', input, { key: rsa.publicKey.key, ...own }, Buffer.from(signature, 'base64url'))).toBe(true);
      expect(verify('sha256', input, { key: rsa.publicKey.key, ...other }, Buffer.from(signature, 'base64url'))).toBe(false);
      expect(verifyCompactJws(jws, rsa.publicKey, [alg]).toString()).toBe('{"data":1}');
    }
  });

  it('refuses anything but three parts, and a refused or confused alg', () => {
    const jws = signCompactJws(payload, { alg: 'ES256' }, ec.privateKey);
    expect(() => verifyCompactJws(`${jws}.x`, ec.publicKey, ['ES256'])).toThrow('JWS must have three parts');
    expect(() => verifyCompactJws(jws.split('.').slice(0, 2).join('.'), ec.publicKey, ['ES256'])).toThrow('JWS must have three parts');
    expect(() => verifyCompactJws(jws, ec.publicKey, ['RS256'])).toThrow('JWS alg ES256 not allowed');
    const rsaJws = signCompactJws(payload, { alg: 'RS256' }, rsa.privateKey);
    expect(() => verifyCompactJws(rsaJws, ec.publicKey, ['ES256', 'RS256'])).toThrow('JWS alg RS256 not allowed');
    const noAlg = `${b64({ kid: 'a' })}.${jws.split('.').slice(1).join('.')}`;
    expect(() => verifyCompactJws(noAlg, ec.publicKey, ['ES256'])).toThrow('JWS alg undefined not allowed');
  });

  it('says when a signature does not verify, and names a signed payload that is not base64url', () => {
    const jws = signCompactJws(payload, { alg: 'ES256' }, ec.privateKey);
    const [header, body] = jws.split('.');
    const otherSignature = signCompactJws(new TextEncoder().encode('other'), { alg: 'ES256' }, ec.privateKey).split('.')[2];
    expect(() => verifyCompactJws(`${header}.${body}.${otherSignature}`, ec.publicKey, ['ES256'])).toThrow('JWS signature does not verify');
    const input = Buffer.from(`${header}.a+b`);
    const signature = sign('sha256', input, { key: ec.privateKey.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    expect(() => verifyCompactJws(`${header}.a+b.${signature}`, ec.publicKey, ['ES256'])).toThrow('JWS payload is not base64url');
  });

  it('refuses an ES256 signature that is not 64 bytes, and names a payload that is not base64url', () => {
    const jws = signCompactJws(payload, { alg: 'ES256' }, ec.privateKey);
    const [header, body, signature = ''] = jws.split('.');
    const longer = Buffer.concat([Buffer.from(signature, 'base64url'), Buffer.of(0)]).toString('base64url');
    expect(() => verifyCompactJws(`${header}.${body}.${longer}`, ec.publicKey, ['ES256'])).toThrow('ES256 signature has the wrong length');
    expect(() => verifyCompactJws(`${header}.${body}.a+b`, ec.publicKey, ['ES256'])).toThrow('JWS signature is not base64url');
  });
});
