import { describe, expect, it } from 'vitest';
import { agentProfile, relayUserProfile, serverProfile } from '../../src/ca/profiles.js';
import { agentUri, isAgentId } from '../../src/index.js';

const invalid = expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST' });

describe('agent ids', () => {
  it('accepts the shared AgentId pattern', () => {
    expect(isAgentId('a')).toBe(true);
    expect(isAgentId('Tax-Bot_2')).toBe(true);
    expect(isAgentId('a'.repeat(128))).toBe(true);
  });

  it.each(['', '-a', '_a', 'a b', 'a.b', 'a,b', 'ä', 'a'.repeat(129)])('refuses %j', (id) => {
    expect(isAgentId(id)).toBe(false);
    expect(() => agentUri(id)).toThrow(invalid);
  });

  it('builds the SAN URI and an agent profile with CN = id and EKU clientAuth', () => {
    expect(agentUri('a1')).toBe('urn:dmr:agent:a1');
    expect(agentProfile('a1')).toMatchObject({
      kind: 'agent',
      commonName: 'a1',
      uris: ['urn:dmr:agent:a1'],
      agentId: 'a1',
      extendedKeyUsage: 'clientAuth',
    });
  });
});

describe('server profiles', () => {
  it('lowercases DNS names, keeps IPs, and defaults the CN to the first name', () => {
    const profile = serverProfile('server', { dnsNames: ['DMR.Example.', '*.dmr.example'], ipAddresses: ['127.0.0.1', '::1'] });
    expect(profile).toMatchObject({
      commonName: 'dmr.example',
      dnsNames: ['dmr.example', '*.dmr.example'],
      ipAddresses: ['127.0.0.1', '::1'],
      extendedKeyUsage: 'serverAuth',
    });
    expect(serverProfile('rabbitmq-server', { ipAddresses: ['10.0.0.1'] }).commonName).toBe('10.0.0.1');
  });

  it.each([
    [{ dnsNames: ['bad_name'] }],
    [{ dnsNames: ['-a.example'] }],
    [{ dnsNames: ['a..example'] }],
    [{ dnsNames: ['a.*.example'] }],
    [{ ipAddresses: ['999.1.1.1'] }],
    [{ ipAddresses: ['localhost'] }],
    [{}],
  ])('refuses %j', (names) => {
    expect(() => serverProfile('server', names)).toThrow(invalid);
  });
});

describe('relay user profile', () => {
  it('puts the RabbitMQ user in the CN', () => {
    expect(relayUserProfile('dmr-relay')).toMatchObject({
      kind: 'relay-user',
      commonName: 'dmr-relay',
      uris: [],
      extendedKeyUsage: 'clientAuth',
    });
  });

  it.each(['', 'a b', 'a,b', 'CN=x'])('refuses %j', (user) => {
    expect(() => relayUserProfile(user)).toThrow(invalid);
  });
});
