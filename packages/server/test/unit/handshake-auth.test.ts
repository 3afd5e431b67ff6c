// Handshake token replay (issue 15 finding 8): a token id is accepted once per instance until it expires.
import { generateKeyPairSync } from 'node:crypto';
import { createAgentToken, importPrivateKey, importPublicKey, publicPemOf } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import { authenticateHandshake, type TokenPolicy, TokenReplayGuard } from '../../src/auth/index.js';

const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privateKey = importPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const publicKey = importPublicKey(publicPemOf(privateKey));
const NOW_MS = Date.UTC(2026, 11, 7, 12, 0, 0);

function depsAt(nowMs: number, tokens: TokenPolicy) {
  return {
    keyOf: (id: string) => (id === 'agent-a' || id === 'legacy-a' ? publicKey : undefined),
    isAcceptingConnections: () => ({ ok: true }) as const,
    tokens,
    now: () => nowMs,
  };
}

function policy(capacity?: number): TokenPolicy {
  return { audience: 'cluster-1', legacyAgentIds: new Set(['legacy-a']), replayGuard: new TokenReplayGuard(capacity) };
}

describe('handshake authentication: token replay', () => {
  it('accepts a token once and refuses its replay with DMR_AUTH_TOKEN_REPLAYED while it is valid', async () => {
    const tokens = policy();
    const token = await createAgentToken('agent-a', privateKey, { audience: 'cluster-1', nowMs: NOW_MS });
    expect(await authenticateHandshake({ token }, depsAt(NOW_MS, tokens))).toEqual({ ok: true, agentId: 'agent-a' });
    expect(await authenticateHandshake({ token }, depsAt(NOW_MS + 10_000, tokens))).toMatchObject({
      ok: false,
      code: 'DMR_AUTH_TOKEN_REPLAYED',
    });
    const fresh = await createAgentToken('agent-a', privateKey, { audience: 'cluster-1', nowMs: NOW_MS + 10_000 });
    expect(await authenticateHandshake({ token: fresh }, depsAt(NOW_MS + 10_000, tokens))).toEqual({ ok: true, agentId: 'agent-a' });
  });

  it('forgets token ids once they expire, so memory stays bounded', async () => {
    const tokens = policy();
    for (let i = 0; i < 5; i++) {
      const token = await createAgentToken('agent-a', privateKey, { audience: 'cluster-1', nowMs: NOW_MS, lifetimeS: 10 });
      expect((await authenticateHandshake({ token }, depsAt(NOW_MS, tokens))).ok).toBe(true);
    }
    expect(tokens.replayGuard.size).toBe(5);
    const later = NOW_MS + 60_000;
    const token = await createAgentToken('agent-a', privateKey, { audience: 'cluster-1', nowMs: later });
    expect((await authenticateHandshake({ token }, depsAt(later, tokens))).ok).toBe(true);
    expect(tokens.replayGuard.size).toBe(1);
  });

  it('refuses new handshakes when full rather than forget a live token id', async () => {
    const tokens = policy(2);
    const sign = () => createAgentToken('agent-a', privateKey, { audience: 'cluster-1', nowMs: NOW_MS });
    expect((await authenticateHandshake({ token: await sign() }, depsAt(NOW_MS, tokens))).ok).toBe(true);
    expect((await authenticateHandshake({ token: await sign() }, depsAt(NOW_MS, tokens))).ok).toBe(true);
    expect(await authenticateHandshake({ token: await sign() }, depsAt(NOW_MS, tokens))).toMatchObject({
      ok: false,
      code: 'DMR_AUTH_REPLAY_GUARD_FULL',
    });
  });

  it('does not remember tokens that fail verification (a forged jti cannot fill the guard)', async () => {
    const tokens = policy();
    const wrongAudience = await createAgentToken('agent-a', privateKey, { audience: 'cluster-2', nowMs: NOW_MS });
    expect(await authenticateHandshake({ token: wrongAudience }, depsAt(NOW_MS, tokens))).toMatchObject({
      code: 'DMR_AUTH_TOKEN_WRONG_AUDIENCE',
    });
    expect(tokens.replayGuard.size).toBe(0);
  });
});

describe('handshake authentication: disabled agents (issue 18)', () => {
  it('refuses an agent the control plane disabled with DMR_AUTH_AGENT_DISABLED, an unknown one still as unknown', async () => {
    const deps = { ...depsAt(NOW_MS, policy()), isDisabled: (id: string) => id === 'agent-off' };
    const off = await createAgentToken('agent-off', privateKey, { audience: 'cluster-1', nowMs: NOW_MS });
    expect(await authenticateHandshake({ token: off }, deps)).toEqual({
      ok: false,
      code: 'DMR_AUTH_AGENT_DISABLED',
      reason: 'agent agent-off is disabled in the control plane',
    });
    const stranger = await createAgentToken('agent-x', privateKey, { audience: 'cluster-1', nowMs: NOW_MS });
    expect(await authenticateHandshake({ token: stranger }, deps)).toMatchObject({ ok: false, code: 'DMR_AUTH_UNKNOWN_AGENT' });
    const on = await createAgentToken('agent-a', privateKey, { audience: 'cluster-1', nowMs: NOW_MS });
    expect(await authenticateHandshake({ token: on }, deps)).toEqual({ ok: true, agentId: 'agent-a' });
  });
});
