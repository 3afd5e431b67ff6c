// Handshake token binding (issue 15 finding 8): time window, audience, token id, and the seed-003 legacy exception.
// The clock is passed in (`nowMs`), so no rule here depends on the machine's timing.
import { generateKeyPairSync } from 'node:crypto';
import {
  createAgentToken,
  importPrivateKey,
  importPublicKey,
  type PrivateKeyRef,
  publicPemOf,
  TOKEN_CLOCK_SKEW_S,
  verifyAgentToken,
} from '@dmr/shared';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';

const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privateKey = importPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const publicKey = importPublicKey(publicPemOf(privateKey));
const keyOf = (id: string) => (id === 'agent-a' || id === 'legacy-a' ? publicKey : undefined);
const NOW_MS = Date.UTC(2026, 11, 7, 12, 0, 0);
const NOW_S = NOW_MS / 1000;
const binding = { audience: 'cluster-1', isLegacy: (id: string) => id === 'legacy-a', nowMs: NOW_MS };

/** Signs a token with exactly these claims (what a hostile or seed-003 agent could send). */
function rawToken(agentId: string, claims: Record<string, unknown>, key: PrivateKeyRef = privateKey): Promise<string> {
  return new SignJWT({ sub: agentId, ...claims }).setProtectedHeader({ alg: 'ES256', kid: agentId, typ: 'JWT' }).sign(key.key);
}

async function codeOf(token: string): Promise<string> {
  const result = await verifyAgentToken(token, keyOf, binding);
  return result.ok ? 'ok' : result.code;
}

describe('handshake token binding', () => {
  it('creates tokens with aud, a fresh jti, iat and exp ≤ 60 s, and accepts them', async () => {
    const token = await createAgentToken('agent-a', privateKey, { audience: 'cluster-1', nowMs: NOW_MS });
    const again = await createAgentToken('agent-a', privateKey, { audience: 'cluster-1', nowMs: NOW_MS });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'agent-a', aud: 'cluster-1', iat: NOW_S, exp: NOW_S + 30 });
    expect(typeof claims.jti).toBe('string');
    expect(decodeJwt(again).jti).not.toBe(claims.jti);
    expect(await verifyAgentToken(token, keyOf, binding)).toEqual({
      ok: true,
      value: { agentId: 'agent-a', tokenId: claims.jti, expiresAtS: NOW_S + 30 },
    });
  });

  it('refuses a future-dated iat beyond the clock skew, even with a short lifetime', async () => {
    const iat = NOW_S + 3600;
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', jti: 'j1', iat, exp: iat + 30 }))).toBe('DMR_AUTH_TOKEN_INVALID');
    const withinSkew = NOW_S + TOKEN_CLOCK_SKEW_S;
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', jti: 'j2', iat: withinSkew, exp: withinSkew + 30 }))).toBe('ok');
  });

  it('refuses a lifetime over 60 s, and an exp more than 60 s + skew from now', async () => {
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', jti: 'j1', iat: NOW_S, exp: NOW_S + 61 }))).toBe(
      'DMR_AUTH_TOKEN_INVALID',
    );
    // a past iat with a short lifetime still cannot reach far into the future, and the iat cannot hide it
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', jti: 'j2', iat: NOW_S - 10, exp: NOW_S + 50 }))).toBe('ok');
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', jti: 'j3', iat: NOW_S + 29, exp: NOW_S + 89 }))).toBe('ok');
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', jti: 'j4', iat: NOW_S + 30, exp: NOW_S + 91 }))).toBe(
      'DMR_AUTH_TOKEN_INVALID',
    );
  });

  it('refuses an expired token', async () => {
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', jti: 'j1', iat: NOW_S - 60, exp: NOW_S - 30 }))).toBe(
      'DMR_AUTH_TOKEN_INVALID',
    );
  });

  it('refuses a token bound to another cluster, also for legacy agents', async () => {
    const other = await createAgentToken('agent-a', privateKey, { audience: 'cluster-2', nowMs: NOW_MS });
    expect(await codeOf(other)).toBe('DMR_AUTH_TOKEN_WRONG_AUDIENCE');
    expect(await codeOf(await rawToken('legacy-a', { aud: 'cluster-2', iat: NOW_S, exp: NOW_S + 30 }))).toBe(
      'DMR_AUTH_TOKEN_WRONG_AUDIENCE',
    );
    expect(await codeOf(await rawToken('agent-a', { aud: ['cluster-2', 'cluster-1'], jti: 'j', iat: NOW_S, exp: NOW_S + 30 }))).toBe('ok');
  });

  it('refuses a token without aud, and one without jti, from an agent not marked legacy', async () => {
    expect(await codeOf(await rawToken('agent-a', { jti: 'j1', iat: NOW_S, exp: NOW_S + 30 }))).toBe('DMR_AUTH_TOKEN_UNBOUND');
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', iat: NOW_S, exp: NOW_S + 30 }))).toBe('DMR_AUTH_TOKEN_UNBOUND');
    expect(await codeOf(await rawToken('agent-a', { aud: 'cluster-1', jti: 7, iat: NOW_S, exp: NOW_S + 30 }))).toBe(
      'DMR_AUTH_TOKEN_INVALID',
    );
  });

  it('accepts what a seed-003 agent sends (kid, sub, iat, exp; no aud, no jti) only for an agent marked legacy', async () => {
    const seedToken = await rawToken('legacy-a', { iat: NOW_S, exp: NOW_S + 60 });
    expect(await verifyAgentToken(seedToken, keyOf, binding)).toEqual({ ok: true, value: { agentId: 'legacy-a', expiresAtS: NOW_S + 60 } });
    // the legacy mark relaxes aud/jti only: the time rules still hold
    const iat = NOW_S + 3600;
    expect(await codeOf(await rawToken('legacy-a', { iat, exp: iat + 30 }))).toBe('DMR_AUTH_TOKEN_INVALID');
    expect(await codeOf(await rawToken('agent-a', { iat: NOW_S, exp: NOW_S + 60 }))).toBe('DMR_AUTH_TOKEN_UNBOUND');
  });
});

describe('handshake token framing and defaults', () => {
  async function refusal(token: unknown): Promise<{ code: string; message: string | undefined }> {
    const result = await verifyAgentToken(token, keyOf, binding);
    if (result.ok) throw new Error('accepted');
    return { code: result.code, message: result.errors[0]?.message };
  }

  it('names what is wrong before any key is used: missing, not a JWT, no kid, unknown agent', async () => {
    for (const token of [undefined, '', 7])
      expect(await refusal(token)).toEqual({ code: 'DMR_AUTH_TOKEN_MISSING', message: 'is required' });
    expect(await refusal('not.a.jwt')).toEqual({ code: 'DMR_AUTH_TOKEN_INVALID', message: 'is not a JWT' });
    const withoutKid = await new SignJWT({ sub: 'agent-a' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey.key);
    expect(await refusal(withoutKid)).toEqual({ code: 'DMR_AUTH_TOKEN_INVALID', message: 'header has no kid' });
    const stranger = await rawToken('agent-x', { iat: NOW_S, exp: NOW_S + 30 });
    expect(await refusal(stranger)).toEqual({ code: 'DMR_AUTH_UNKNOWN_AGENT', message: 'agent agent-x is not in the registry' });
  });

  it("refuses a token whose sub is not its kid, or that lacks iat, with jose's reason", async () => {
    const otherSubject = await new SignJWT({ sub: 'agent-b', iat: NOW_S, exp: NOW_S + 30, aud: 'cluster-1', jti: 'j' })
      .setProtectedHeader({ alg: 'ES256', kid: 'agent-a' })
      .sign(privateKey.key);
    expect(await refusal(otherSubject)).toEqual({ code: 'DMR_AUTH_TOKEN_INVALID', message: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    const withoutIat = await rawToken('agent-a', { exp: NOW_S + 30, aud: 'cluster-1', jti: 'j' });
    expect(await refusal(withoutIat)).toEqual({ code: 'DMR_AUTH_TOKEN_INVALID', message: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('tolerates an expiry up to 5 s past, not more', async () => {
    const expiredBy = async (seconds: number) =>
      codeOf(await rawToken('agent-a', { iat: NOW_S - 30, exp: NOW_S - seconds, aud: 'cluster-1', jti: `j${seconds}` }));
    expect(await expiredBy(4)).toBe('ok');
    expect(await expiredBy(6)).toBe('DMR_AUTH_TOKEN_INVALID');
  });

  it('creates 30 s tokens for the default cluster by default, typed JWT, and never longer than 60 s', async () => {
    const token = await createAgentToken('agent-a', privateKey, { nowMs: NOW_MS });
    expect(decodeJwt(token)).toMatchObject({ aud: 'dmr', iat: NOW_S, exp: NOW_S + 30 });
    expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString())).toEqual({
      alg: 'ES256',
      kid: 'agent-a',
      typ: 'JWT',
    });
    const long = await createAgentToken('agent-a', privateKey, { nowMs: NOW_MS, lifetimeS: 3600 });
    expect(decodeJwt(long)).toMatchObject({ iat: NOW_S, exp: NOW_S + 60 });
    expect((await verifyAgentToken(token, keyOf, { nowMs: NOW_MS })).ok).toBe(true);
  });

  it('signs standard JWTs that jose verifies, EC (ES256) and RSA (RS256), and refuses a clock or lifetime that is not a number', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaKey = importPrivateKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    for (const [key, verifyKey, alg] of [
      [privateKey, publicKey.key, 'ES256'],
      [rsaKey, rsa.publicKey, 'RS256'],
    ] as const) {
      const token = await createAgentToken('agent-a', key, { audience: 'cluster-1', nowMs: NOW_MS });
      const { payload, protectedHeader } = await jwtVerify(token, verifyKey, { currentDate: new Date(NOW_MS), audience: 'cluster-1' });
      expect(protectedHeader).toEqual({ alg, kid: 'agent-a', typ: 'JWT' });
      expect(payload).toEqual({ sub: 'agent-a', aud: 'cluster-1', jti: expect.any(String), iat: NOW_S, exp: NOW_S + 30 });
    }
    await expect(createAgentToken('agent-a', privateKey, { nowMs: Number.NaN })).rejects.toThrow(TypeError);
    await expect(createAgentToken('agent-a', privateKey, { nowMs: NOW_MS, lifetimeS: Number.NEGATIVE_INFINITY })).rejects.toThrow(
      TypeError,
    );
  });
});
