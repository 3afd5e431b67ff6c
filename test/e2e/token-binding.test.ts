// Issue 15 finding 8 over the wire: a real server (mutual TLS, real RabbitMQ) refuses a replayed handshake token,
// a token for another cluster and an unbound token, and lets a seed-003-style token in only for a legacy agent.
import { createAgentToken, importPrivateKey } from '@dmr/shared';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  RegistryFile,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  waitUntil,
} from '../support/dmr-system.js';
import { type RabbitVhostInfo, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent, connectRawAgentWithToken } from '../support/raw-agent.js';

/** The DMR code of a refused handshake (socket.io puts the middleware error's `data` on connect_error). */
async function refusalCode(connecting: Promise<{ close(): void }>): Promise<string> {
  try {
    (await connecting).close();
    return 'connected';
  } catch (error) {
    return String((error as { data?: { code?: string } }).data?.code ?? (error as Error).message);
  }
}

/** What a seed-003 agent sends: header kid, claims sub, iat, exp; no aud, no jti. */
async function seedToken(identity: Identity): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const key = importPrivateKey(identity.privatePem);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: identity.id, typ: 'JWT' })
    .setSubject(identity.id)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key.key);
}

describe('handshake token binding on a real server', () => {
  let rabbit: RabbitVhostInfo & { cleanup: () => Promise<void> };
  let registry: RegistryFile;
  let server: RunningServer;
  let a: Identity;
  let legacy: Identity;
  let b: Identity;
  const open: Array<{ close(): void }> = [];

  beforeAll(async () => {
    a = await makeIdentity('ec');
    legacy = await makeIdentity('ec');
    b = await makeIdentity('rsa');
    rabbit = await useRabbitVhost();
    registry = new RegistryFile([a, legacy, b]);
    server = await startServer(serverEnv(rabbit, registry.url, { DMR_CLUSTER_ID: 'cluster-test', DMR_LEGACY_AGENT_IDS: legacy.id }));
  });

  afterEach(() => {
    for (const socket of open.splice(0)) socket.close();
  });

  afterAll(async () => {
    await server?.server.stop();
    registry?.remove();
    await rabbit?.cleanup();
  });

  it('refuses a captured token replayed while still valid, with DMR_AUTH_TOKEN_REPLAYED', async () => {
    const captured = await createAgentToken(a.id, importPrivateKey(a.privatePem), { audience: 'cluster-test' });
    const first = await connectRawAgentWithToken(server.url, a, captured);
    open.push(first);
    expect(first.socket.connected).toBe(true);
    first.close();
    await waitUntil(() => !server.server.gateway.connectedAgentIds().includes(a.id), 5000, 'first session closed');
    expect(await refusalCode(connectRawAgentWithToken(server.url, a, captured))).toBe('DMR_AUTH_TOKEN_REPLAYED');
    expect(server.logs.lines.some((line) => line.code === 'DMR_AUTH_TOKEN_REPLAYED' && line.msg === 'agent handshake refused')).toBe(true);
    // a fresh token from the same agent still gets in
    const fresh = await connectRawAgentWithToken(
      server.url,
      a,
      await createAgentToken(a.id, importPrivateKey(a.privatePem), { audience: 'cluster-test' }),
    );
    open.push(fresh);
    expect(fresh.socket.connected).toBe(true);
  });

  it('refuses a token bound to another cluster, and an unbound (seed-003 style) token from an agent not marked legacy', async () => {
    // connectRawAgent signs with the default audience "dmr", not this server's "cluster-test"
    expect(await refusalCode(connectRawAgent(server.url, a))).toBe('DMR_AUTH_TOKEN_WRONG_AUDIENCE');
    expect(await refusalCode(connectRawAgentWithToken(server.url, a, await seedToken(a)))).toBe('DMR_AUTH_TOKEN_UNBOUND');
  });

  it('lets an agent listed in DMR_LEGACY_AGENT_IDS in with what seed-003 agents send', async () => {
    const session = await connectRawAgentWithToken(server.url, legacy, await seedToken(legacy));
    open.push(session);
    expect(session.socket.connected).toBe(true);
  });
  it('lets a real dmr-agent in: it binds its tokens to its DMR_CLUSTER_ID and sends a jti on every connect', async () => {
    const running = await startAgent(b, server.url, 'http://127.0.0.1:9/unused', { DMR_CLUSTER_ID: 'cluster-test' });
    try {
      await waitUntil(() => server.server.gateway.connectedAgentIds().includes(b.id), 10_000, 'agent B connected');
      expect(running.agent.linkState).toBe('connected');
    } finally {
      await running.agent.stop();
    }
  });
});
