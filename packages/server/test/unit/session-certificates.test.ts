// Issue 15, finding 7: the pure rule for a later engine.io request of a session (the wire test is
// test/e2e/mtls-session.test.ts).
import { describe, expect, it } from 'vitest';
import { judgeSessionRequest } from '../../src/auth/index.js';

const agentA = { ok: true, agentId: 'agent-a' } as const;
const agentB = { ok: true, agentId: 'agent-b' } as const;
const missing = { ok: false, code: 'DMR_AUTH_CERTIFICATE_MISSING', reason: 'no client certificate' } as const;
const revoked = { ok: false, code: 'DMR_AUTH_CERTIFICATE_REVOKED', reason: 'certificate 0a is revoked' } as const;

describe('judgeSessionRequest', () => {
  it('passes a request whose certificate names the session’s agent', () => {
    expect(judgeSessionRequest(agentA, agentA)).toEqual(agentA);
  });

  it('refuses a request without a verified certificate', () => {
    expect(judgeSessionRequest(missing, agentA)).toEqual(missing);
  });

  it('refuses a request with another agent’s certificate', () => {
    expect(judgeSessionRequest(agentB, agentA)).toMatchObject({ ok: false, code: 'DMR_AUTH_CERTIFICATE_MISMATCH' });
  });

  it('refuses every request of a session whose own certificate no longer passes', () => {
    expect(judgeSessionRequest(agentA, revoked)).toMatchObject({ ok: false, code: 'DMR_AUTH_CERTIFICATE_REVOKED' });
    expect(judgeSessionRequest(agentA, missing)).toMatchObject({ ok: false, code: 'DMR_AUTH_CERTIFICATE_MISSING' });
  });
});
