// Issue 15 finding 9 (server side) and finding 8's settings: a registry naming a RabbitMQ user as an agent id is
// refused whole; DMR_CLUSTER_ID, DMR_LEGACY_AGENT_IDS and DMR_RESERVED_AGENT_IDS are validated at start.
import { generateKeyPairSync } from 'node:crypto';
import { loadServerConfig, parseRegistry } from '@dmr/server';
import { describe, expect, it } from 'vitest';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

function entry(id: string) {
  return { id, name: id, authentication_certificate: key, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' };
}

const minimal = {
  CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
  RABBITMQ_DEFAULT_HOST: '127.0.0.1',
  RABBITMQ_DEFAULT_PORT: '5672',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:15672',
  RABBITMQ_DEFAULT_USER: 'dmr-admin',
  RABBITMQ_DEFAULT_PASS: 'secret',
  DMR_ALLOW_PLAINTEXT: 'true',
};

describe('registry: agent ids that name RabbitMQ users', () => {
  it('refuses the relay user, guest and admin as agent ids, whatever their case, naming the entry', () => {
    for (const id of ['dmr-relay', 'guest', 'Admin']) {
      const parsed = parseRegistry({ response: [entry('tax-bot'), entry(id)] });
      expect(parsed.ok ? 'accepted' : parsed.code).toBe('DMR_REGISTRY_INVALID');
      expect(parsed.ok ? [] : parsed.errors).toEqual([{ path: 'response.1.id', message: expect.stringMatching(/reserved/) }]);
    }
    expect(parseRegistry({ response: [entry('tax-bot'), entry('police-bot')] }).ok).toBe(true);
  });

  it("refuses the deployment's own broker users: RABBITMQ_DEFAULT_USER and DMR_RESERVED_AGENT_IDS", () => {
    const config = loadServerConfig({ ...minimal, DMR_RESERVED_AGENT_IDS: 'ops-admin, shovel-user' });
    expect(config.registry.reservedAgentIds).toEqual(['ops-admin', 'shovel-user', 'dmr-admin']);
    for (const id of ['dmr-admin', 'ops-admin', 'shovel-user']) {
      expect(parseRegistry({ response: [entry(id)] }, config.registry.reservedAgentIds).ok).toBe(false);
    }
  });
});

describe('token binding settings', () => {
  it('defaults the cluster id to "dmr" and no legacy agents', () => {
    const config = loadServerConfig(minimal);
    expect(config.gateway.clusterId).toBe('dmr');
    expect(config.gateway.legacyAgentIds).toEqual([]);
  });

  it('reads DMR_CLUSTER_ID and DMR_LEGACY_AGENT_IDS, and names a bad one', () => {
    const config = loadServerConfig({ ...minimal, DMR_CLUSTER_ID: 'ee-prod', DMR_LEGACY_AGENT_IDS: 'seed-a, seed-b' });
    expect(config.gateway).toMatchObject({ clusterId: 'ee-prod', legacyAgentIds: ['seed-a', 'seed-b'] });
    expect(() => loadServerConfig({ ...minimal, DMR_CLUSTER_ID: 'bad id' })).toThrow(/DMR_CLUSTER_ID/);
    expect(() => loadServerConfig({ ...minimal, DMR_LEGACY_AGENT_IDS: 'ok-id,no/slash' })).toThrow(
      /DMR_LEGACY_AGENT_IDS entry "no\/slash"/,
    );
  });
});
