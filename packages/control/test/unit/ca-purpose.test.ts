// Issue 15 finding 9: the agent CA and the broker CA issue disjoint kinds, and agent ids never name a broker user.
import { describe, expect, it } from 'vitest';
import { adminProfile, agentProfile, assertKindAllowed, CERTIFICATE_KINDS, parseCaState, purposeOf } from '../../src/index.js';

const base = { version: 1, crlNumber: 0, issued: [], revoked: [] };

describe('CA purpose', () => {
  it('lets an agent CA issue server, agent and admin certificates only, a broker CA RabbitMQ ones only', () => {
    const allowed = (purpose: 'agents' | 'broker') =>
      CERTIFICATE_KINDS.filter((kind) => {
        try {
          assertKindAllowed(purpose, kind);
          return true;
        } catch (error) {
          expect(error).toMatchObject({ code: 'DMR_CA_PURPOSE_MISMATCH' });
          return false;
        }
      });
    expect(allowed('agents')).toEqual(['server', 'agent', 'admin']);
    expect(allowed('broker')).toEqual(['rabbitmq-server', 'relay-user']);
  });

  it('reads the purpose from ca-state.json; a CA made before purposes is an agent CA', () => {
    expect(purposeOf(parseCaState(JSON.stringify({ ...base, purpose: 'broker' })))).toBe('broker');
    expect(purposeOf(parseCaState(JSON.stringify(base)))).toBe('agents');
    expect(() => parseCaState(JSON.stringify({ ...base, purpose: 'everything' }))).toThrow(/purpose must be one of agents, broker/);
  });
});

describe('agent ids reserved for broker users', () => {
  it('refuses the relay user, guest, admin (any case) and the deployment broker users', () => {
    for (const id of ['dmr-relay', 'guest', 'ADMIN', 'administrator']) {
      expect(() => agentProfile(id)).toThrow(
        expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST', message: expect.stringMatching(/reserved/) }),
      );
    }
    expect(() => agentProfile('ops-user', ['ops-user'])).toThrow(/reserved/);
    expect(agentProfile('tax-bot').commonName).toBe('tax-bot');
  });
});

describe('administrator certificates (issue 18)', () => {
  it('name the role and the person in the SAN URI, CN = person, EKU clientAuth', () => {
    expect(adminProfile('operator', 'mari.maasikas@ria.ee')).toEqual({
      kind: 'admin',
      commonName: 'mari.maasikas@ria.ee',
      dnsNames: [],
      ipAddresses: [],
      uris: ['urn:dmr:role:operator:mari.maasikas@ria.ee'],
      extendedKeyUsage: 'clientAuth',
    });
  });

  it('refuse an unknown role or a name outside the person alphabet', () => {
    for (const [role, person] of [
      ['root', 'mari'],
      ['server', 'mari'],
      ['admin', ''],
      ['admin', 'mari maasikas'],
      ['admin', 'x:urn:dmr:role:admin:y'],
    ] as const) {
      expect(() => adminProfile(role, person)).toThrow(expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST' }));
    }
  });
});
