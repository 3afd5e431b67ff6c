// The claim rules of a handshake token, at their exact boundaries and with the reason each refusal gives (issue 15
// finding 8; issue 21: the mutation run found these boundaries and reasons unchecked). Pure: the clock is a number.
import { describe, expect, it } from 'vitest';
import { checkTokenClaims, type TokenBinding } from '../../src/crypto/token-claims.js';
import { MAX_TOKEN_LIFETIME_S, TOKEN_CLOCK_SKEW_S } from '../../src/protocol.js';

const NOW_S = 1_800_000_000;
const AGENT = 'agent-a';
const binding: TokenBinding = { audience: 'cluster-1', isLegacy: (id) => id === 'legacy' };
const good = { iat: NOW_S, exp: NOW_S + 30, aud: 'cluster-1', jti: 'token-1' };

function check(claims: Record<string, unknown>, agentId = AGENT) {
  return checkTokenClaims(agentId, claims, binding, NOW_S);
}

function refusalOf(claims: Record<string, unknown>, agentId = AGENT) {
  const result = check(claims, agentId);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(claims)}`);
  expect(result.errors).toHaveLength(1);
  expect(result.errors[0]?.path).toBe('auth.token');
  return { code: result.code, message: result.errors[0]?.message };
}

describe('handshake token claims', () => {
  it('accepts a bound token and returns its agent, token id and expiry', () => {
    expect(check(good)).toEqual({ ok: true, value: { agentId: AGENT, tokenId: 'token-1', expiresAtS: NOW_S + 30 } });
  });

  it('refuses iat or exp that are not numbers', () => {
    for (const claims of [
      { ...good, iat: String(NOW_S) },
      { ...good, exp: undefined },
    ]) {
      expect(refusalOf(claims)).toEqual({ code: 'DMR_AUTH_TOKEN_INVALID', message: 'iat and exp must be numbers' });
    }
  });

  it(`accepts iat up to ${TOKEN_CLOCK_SKEW_S} s ahead and refuses one second more, even when exp is not after it`, () => {
    expect(check({ ...good, iat: NOW_S + TOKEN_CLOCK_SKEW_S, exp: NOW_S + TOKEN_CLOCK_SKEW_S }).ok).toBe(true);
    // exp before iat keeps the lifetime and exp rules quiet: only the iat rule can refuse it
    expect(refusalOf({ ...good, iat: NOW_S + TOKEN_CLOCK_SKEW_S + 1, exp: NOW_S + 10 })).toEqual({
      code: 'DMR_AUTH_TOKEN_INVALID',
      message: `iat is more than ${TOKEN_CLOCK_SKEW_S} s in the future`,
    });
  });

  it(`accepts a lifetime of exactly ${MAX_TOKEN_LIFETIME_S} s and refuses one second more`, () => {
    expect(check({ ...good, iat: NOW_S - 5, exp: NOW_S - 5 + MAX_TOKEN_LIFETIME_S }).ok).toBe(true);
    expect(refusalOf({ ...good, iat: NOW_S - 5, exp: NOW_S - 5 + MAX_TOKEN_LIFETIME_S + 1 })).toEqual({
      code: 'DMR_AUTH_TOKEN_INVALID',
      message: `lifetime exceeds ${MAX_TOKEN_LIFETIME_S} s`,
    });
  });

  it('requires aud from a non-legacy agent and refuses another cluster for everyone', () => {
    const { aud: _aud, ...unbound } = good;
    expect(refusalOf(unbound)).toEqual({ code: 'DMR_AUTH_TOKEN_UNBOUND', message: 'aud is required (the server cluster id)' });
    const wrong = { code: 'DMR_AUTH_TOKEN_WRONG_AUDIENCE', message: 'aud is not this cluster (cluster-1)' };
    expect(refusalOf({ ...good, aud: 'cluster-2' })).toEqual(wrong);
    expect(refusalOf({ ...good, aud: 'cluster-2' }, 'legacy')).toEqual(wrong);
  });

  it('takes aud as an array of 1 to 8 entries naming this cluster', () => {
    const others = ['c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'];
    expect(check({ ...good, aud: ['cluster-1'] }).ok).toBe(true);
    expect(check({ ...good, aud: [...others, 'cluster-1'] }).ok).toBe(true);
    expect(refusalOf({ ...good, aud: [...others, 'c9', 'cluster-1'] }).code).toBe('DMR_AUTH_TOKEN_WRONG_AUDIENCE');
    expect(refusalOf({ ...good, aud: [] }).code).toBe('DMR_AUTH_TOKEN_WRONG_AUDIENCE');
    expect(refusalOf({ ...good, aud: ['c2'] }).code).toBe('DMR_AUTH_TOKEN_WRONG_AUDIENCE');
  });

  it('requires a jti of 1 to 128 characters from a non-legacy agent', () => {
    const { jti: _jti, ...withoutId } = good;
    expect(refusalOf(withoutId)).toEqual({ code: 'DMR_AUTH_TOKEN_UNBOUND', message: 'jti is required' });
    expect(check({ ...good, jti: 'x' })).toMatchObject({ ok: true, value: { tokenId: 'x' } });
    expect(check({ ...good, jti: 'x'.repeat(128) })).toMatchObject({ ok: true, value: { tokenId: 'x'.repeat(128) } });
    const malformed = { code: 'DMR_AUTH_TOKEN_INVALID', message: 'jti must be a string of 1 to 128 characters' };
    for (const jti of ['', 'x'.repeat(129), 7, ['x']]) expect(refusalOf({ ...good, jti })).toEqual(malformed);
  });

  it("lets a legacy agent omit aud and jti (seed 003's token), with no token id to remember", () => {
    expect(check({ iat: NOW_S, exp: NOW_S + 60 }, 'legacy')).toEqual({ ok: true, value: { agentId: 'legacy', expiresAtS: NOW_S + 60 } });
    // a legacy agent that does send a jti gets it checked and remembered like everyone else
    expect(check({ ...good, jti: 'seen' }, 'legacy')).toEqual({
      ok: true,
      value: { agentId: 'legacy', tokenId: 'seen', expiresAtS: NOW_S + 30 },
    });
    expect(refusalOf({ ...good, jti: '' }, 'legacy').code).toBe('DMR_AUTH_TOKEN_INVALID');
  });
});
