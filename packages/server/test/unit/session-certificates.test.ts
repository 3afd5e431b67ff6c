// Issue 15, finding 7: the pure rule for a later engine.io request of a session (the wire test is
// test/e2e/mtls-session.test.ts).
import type { IncomingMessage } from 'node:http';
import { createLogger } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import { type EngineLike, judgeSessionRequest, SessionCertificates } from '../../src/auth/index.js';
import type { EngineSocketLike } from '../../src/auth/session-certificates.js';

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

describe('SessionCertificates.identityOf (issue 19: the policy input’s sender.certificate)', () => {
  it('gives the subject and serial of the certificate that opened the session, null without one', () => {
    let onConnection: (socket: EngineSocketLike) => void = () => undefined;
    const engine: EngineLike = {
      use: () => undefined,
      prependListener: (_event, listener) => {
        onConnection = listener;
      },
    };
    const sessions = new SessionCertificates({
      judge: () => agentA,
      log: createLogger({ name: 'test', level: 'fatal' }),
      onRefused: () => undefined,
    });
    sessions.attach(engine);
    const session = (certificate: object | null): EngineSocketLike => ({
      id: Math.random().toString(36),
      request: { socket: { getPeerCertificate: () => certificate, authorized: certificate !== null } } as unknown as IncomingMessage,
      once: () => undefined,
    });
    const withCertificate = session({
      serialNumber: '0A1B',
      subject: { O: 'EMTA', CN: 'tax-bot' },
      subjectaltname: 'URI:urn:dmr:agent:tax-bot',
      valid_to: 'Dec 31 00:00:00 2099 GMT',
    });
    onConnection(withCertificate);
    expect(sessions.identityOf(withCertificate)).toEqual({ subject: 'O=EMTA,CN=tax-bot', serial: '0A1B' });
    const without = session({});
    onConnection(without);
    expect(sessions.identityOf(without)).toBeNull();
    expect(sessions.identityOf({})).toBeNull();
  });
});
