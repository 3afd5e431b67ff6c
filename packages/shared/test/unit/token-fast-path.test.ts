// The handshake token's node:crypto path (acceptTokenFast) against jose's jwtVerify with the same options: the fast
// path must accept the tokens agents send (else it saves nothing) and must never accept one jose refuses; whatever it
// does not accept, verifyAgentToken hands to jose, so the outcome stays jose's.
import { generateKeyPairSync } from 'node:crypto';
import {
  createAgentToken,
  importPrivateKey,
  importPublicKey,
  type PrivateKeyRef,
  type PublicKeyRef,
  publicPemOf,
  signCompactJws,
  verifyAgentToken,
} from '@dmr/shared';
import { CompactSign, FlattenedSign, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { acceptTokenFast } from '../../src/crypto/token-fast-path.js';

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
const NOW_MS = Date.UTC(2026, 11, 7, 12, 0, 0);
const NOW_S = NOW_MS / 1000;
const TOLERANCE_S = 5;
const KID = 'agent-a';

/** Both verdicts on `token` for `key`: the fast path's and jose's (verifyAgentToken's options). */
async function verdicts(token: string, key: PublicKeyRef = ec.publicKey): Promise<{ fast: boolean; jose: boolean }> {
  const fast = acceptTokenFast(token, key, { subject: KID, clockToleranceS: TOLERANCE_S, nowS: NOW_S }) !== undefined;
  const jose = await jwtVerify(token, key.key, {
    algorithms: key.kind === 'rsa' ? ['RS256', 'PS256'] : ['ES256'],
    subject: KID,
    requiredClaims: ['iat', 'exp', 'sub'],
    clockTolerance: TOLERANCE_S,
    currentDate: new Date(NOW_MS),
  }).then(
    () => true,
    () => false,
  );
  return { fast, jose };
}

/** A token with exactly `claims` and `header` (what a hostile agent could send), signed with `key`. */
function signed(claims: Record<string, unknown>, header: Record<string, unknown> = {}, key: KeyPair = ec): Promise<string> {
  const alg = key.privateKey.kind === 'rsa' ? 'RS256' : 'ES256';
  return new SignJWT(claims).setProtectedHeader({ alg, kid: KID, typ: 'JWT', ...header }).sign(key.privateKey.key);
}

/** A compact JWS over raw payload bytes (claims sets jose's SignJWT would never produce). */
function signedBytes(payload: Uint8Array): Promise<string> {
  return new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid: KID }).sign(ec.privateKey.key);
}

/** RFC 7797 `b64: false` in compact form: the payload travels unencoded (JWTs must not, jose refuses them). */
async function unencodedPayloadToken(): Promise<string> {
  const jws = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(good)))
    .setProtectedHeader({ alg: 'ES256', kid: KID, b64: false, crit: ['b64'] })
    .sign(ec.privateKey.key);
  return `${jws.protected}.${jws.payload}.${jws.signature}`;
}

const good = { sub: KID, aud: 'dmr', jti: 'j', iat: NOW_S, exp: NOW_S + 30 };

describe('handshake token fast path', () => {
  it('accepts what agents send, EC and RSA, with the claims jose returns', async () => {
    const token = await createAgentToken(KID, ec.privateKey, { nowMs: NOW_MS });
    expect(await verdicts(token)).toEqual({ fast: true, jose: true });
    const { payload } = await jwtVerify(token, ec.publicKey.key, { currentDate: new Date(NOW_MS) });
    expect(acceptTokenFast(token, ec.publicKey, { subject: KID, clockToleranceS: TOLERANCE_S, nowS: NOW_S })).toEqual(payload);
    expect(await verdicts(await createAgentToken(KID, rsa.privateKey, { nowMs: NOW_MS }), rsa.publicKey)).toEqual({
      fast: true,
      jose: true,
    });
    const ps256 = await new SignJWT(good).setProtectedHeader({ alg: 'PS256', kid: KID }).sign(rsa.privateKey.key);
    expect(await verdicts(ps256, rsa.publicKey)).toEqual({ fast: true, jose: true });
  });

  it('applies jose’s time rules at their edges: exp within the tolerance, nbf up to now + tolerance', async () => {
    expect(await verdicts(await signed({ ...good, iat: NOW_S - 40, exp: NOW_S - 4 }))).toEqual({ fast: true, jose: true });
    expect(await verdicts(await signed({ ...good, iat: NOW_S - 40, exp: NOW_S - 5 }))).toEqual({ fast: false, jose: false });
    expect(await verdicts(await signed({ ...good, nbf: NOW_S + 5 }))).toEqual({ fast: true, jose: true });
    expect(await verdicts(await signed({ ...good, nbf: NOW_S + 6 }))).toEqual({ fast: false, jose: false });
  });

  it('never accepts a token jose refuses', async () => {
    const other = makeKey('ec');
    const refused = [
      await signed({ ...good, sub: 'agent-b' }),
      await signed({ aud: 'dmr', jti: 'j', exp: NOW_S + 30, iat: NOW_S }),
      await signed({ ...good, iat: undefined }),
      await signed({ ...good, exp: undefined }),
      await signed({ ...good, iat: String(NOW_S) }),
      await signed({ ...good, exp: String(NOW_S + 30) }),
      await signed({ ...good, nbf: String(NOW_S) }),
      await signed({ ...good, nbf: null }),
      await signed(good, {}, other),
      signCompactJws(new TextEncoder().encode(JSON.stringify(good)), { alg: 'ES256', kid: KID, crit: ['exp'], exp: 1 }, ec.privateKey),
      await unencodedPayloadToken(),
      await signedBytes(new TextEncoder().encode(JSON.stringify([good]))),
      await signedBytes(new TextEncoder().encode('"claims"')),
      await signedBytes(
        Uint8Array.of(...new TextEncoder().encode(`{"sub":"${KID}","iat":${NOW_S},"exp":${NOW_S + 30},"x":"`), 0xff, 0x22, 0x7d),
      ),
    ];
    const tampered = (await signed(good)).split('.');
    refused.push([tampered[0], Buffer.from(JSON.stringify({ ...good, sub: 'agent-b' })).toString('base64url'), tampered[2]].join('.'));
    for (const token of refused) expect(await verdicts(token)).toEqual({ fast: false, jose: false });
    // a token for another key kind: ES256 against an RSA key, RS256 against an EC key
    expect(await verdicts(await signed(good), rsa.publicKey)).toEqual({ fast: false, jose: false });
    expect(await verdicts(await signed(good, {}, rsa), ec.publicKey)).toEqual({ fast: false, jose: false });
  });

  it('hands headers it does not handle to jose, which decides as before', async () => {
    const withJku = await signed(good, { jku: 'https://example.test/keys' });
    expect(await verdicts(withJku)).toEqual({ fast: false, jose: true });
    const keyOf = (id: string) => (id === KID ? ec.publicKey : undefined);
    expect(await verifyAgentToken(withJku, keyOf, { nowMs: NOW_MS })).toEqual({
      ok: true,
      value: { agentId: KID, tokenId: 'j', expiresAtS: NOW_S + 30 },
    });
  });
});
