// Issue 17: a presented certificate that does not verify is "untrusted", not "missing" (the wire test is
// test/e2e/ca-bundle.test.ts).
import { describe, expect, it } from 'vitest';
import { judgeCertificate, type PeerIdentity } from '../../src/auth/index.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const certificate = { subjectaltname: 'URI:urn:dmr:agent:agent-a', serialNumber: '0A1B', valid_to: 'Dec  7 12:00:00 2027 GMT' };

function peer(isAuthorized: boolean, authorizationError?: string): PeerIdentity {
  return { certificate, isAuthorized, authorizationError };
}

describe('judgeCertificate', () => {
  it('passes a verified certificate naming one agent', () => {
    expect(judgeCertificate(peer(true), new Set(), NOW)).toEqual({ ok: true, agentId: 'agent-a' });
  });

  it('calls a verified session untrusted once no CA of its chain is trusted any more (a retired CA), and passes it while one is', () => {
    const chained: PeerIdentity = { ...peer(true), chainFingerprints: ['AA:01', 'BB:02'] };
    expect(judgeCertificate(chained, new Set(), NOW, new Set(['CC:03']))).toEqual({
      ok: false,
      code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED',
      reason: 'its issuing CA is no longer trusted (retired)',
    });
    expect(judgeCertificate(chained, new Set(), NOW, new Set(['BB:02', 'CC:03']))).toEqual({ ok: true, agentId: 'agent-a' });
    // no chain known (or no trusted set): nothing to compare, TLS's verdict stands
    expect(judgeCertificate(peer(true), new Set(), NOW, new Set(['CC:03']))).toEqual({ ok: true, agentId: 'agent-a' });
    expect(judgeCertificate(chained, new Set(), NOW)).toEqual({ ok: true, agentId: 'agent-a' });
  });

  it('calls a connection without a certificate missing', () => {
    expect(judgeCertificate(undefined, new Set(), NOW)).toMatchObject({ ok: false, code: 'DMR_AUTH_CERTIFICATE_MISSING' });
    const none: PeerIdentity = { certificate: undefined, isAuthorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT' };
    expect(judgeCertificate(none, new Set(), NOW)).toMatchObject({ ok: false, code: 'DMR_AUTH_CERTIFICATE_MISSING' });
  });

  it.each([
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'CERT_SIGNATURE_FAILURE',
    'UNABLE_TO_GET_CRL',
  ])('calls a presented certificate that failed with %s untrusted, with the OpenSSL reason', (error) => {
    expect(judgeCertificate(peer(false, error), new Set(), NOW)).toEqual({
      ok: false,
      code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED',
      reason: `client certificate not verified: ${error}`,
    });
  });

  it('keeps the revoked and expired codes of OpenSSL’s verdict', () => {
    expect(judgeCertificate(peer(false, 'CERT_REVOKED'), new Set(), NOW)).toMatchObject({ code: 'DMR_AUTH_CERTIFICATE_REVOKED' });
    expect(judgeCertificate(peer(false, 'CERT_HAS_EXPIRED'), new Set(), NOW)).toMatchObject({ code: 'DMR_AUTH_CERTIFICATE_EXPIRED' });
  });
});
