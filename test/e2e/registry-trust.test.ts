// Issue 15, finding 16: the agent registry is the root of trust for agent keys. It must come over verified https
// (a real local https server with the test CA here), never over http:// or unverified TLS unless allowed for
// development, and a registry that would disconnect most of the fleet at once is refused while the last good one stays.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { buildServer, loadServerConfig } from '@dmr/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  LogCapture,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningServer,
  serverEnv,
  serverTlsEnv,
  startAgent,
  startServer,
  testPki,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent } from '../support/raw-agent.js';

/** A CentOps stand-in serving `agents` at /agents over https (test PKI certificate for 127.0.0.1) or plain http. */
async function serveRegistry(agents: readonly Identity[], scheme: 'https' | 'http'): Promise<{ url: string; close: () => Promise<void> }> {
  const now = new Date().toISOString();
  const body = JSON.stringify({
    response: agents.map((a) => ({ id: a.id, name: a.id, authentication_certificate: a.certificatePem, created_at: now, updated_at: now })),
  });
  const handler = (_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };
  let server: Server;
  if (scheme === 'https') {
    const tls = await serverTlsEnv();
    server = createHttpsServer(
      { cert: readFileSync(tls.DMR_TLS_CERT_FILE as string), key: readFileSync(tls.DMR_TLS_KEY_FILE as string) },
      handler,
    );
  } else {
    server = createHttpServer(handler);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}/agents`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('registry trust', () => {
  let rabbit: RabbitVhostHandle;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
  });
  afterAll(async () => {
    await rabbit.cleanup();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function server(registryUrl: string, extra: Record<string, string> = {}): Promise<RunningServer> {
    const running = await startServer(serverEnv(rabbit, registryUrl, extra));
    cleanups.push(() => running.server.stop());
    return running;
  }

  it('loads the registry over real https with the CA from CENTOPS_CONFIGURATION_CA_FILE, and agents relay', async () => {
    const a = await makeIdentity('ec');
    const b = await makeIdentity('ec');
    const registry = await serveRegistry([a, b], 'https');
    cleanups.push(registry.close);
    const receiver = await new Receiver().start();
    cleanups.push(() => receiver.close());
    const s1 = await server(registry.url, { CENTOPS_CONFIGURATION_CA_FILE: (await testPki()).caCertPath });
    expect(s1.server.registry.agentIds().sort()).toEqual([a.id, b.id].sort());
    const agentA = await startAgent(a, s1.url, receiver.url);
    cleanups.push(() => agentA.agent.stop());
    const agentB = await startAgent(b, s1.url, receiver.url);
    cleanups.push(() => agentB.agent.stop());
    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    await waitUntil(() => receiver.countOf(body.id) === 1, 10_000, 'delivered');
  });

  it('refuses an https registry whose certificate it cannot verify, even with NODE_TLS_REJECT_UNAUTHORIZED=0 in the process', async () => {
    const registry = await serveRegistry([await makeIdentity('ec')], 'https');
    cleanups.push(registry.close);
    const logs = new LogCapture('dmr-server');
    // no CENTOPS_CONFIGURATION_CA_FILE: the test CA is not in Node's root store
    const built = buildServer(loadServerConfig({ ...serverEnv(rabbit, registry.url), ...(await serverTlsEnv()) }), { log: logs.logger });
    cleanups.push(() => built.stop());
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      await built.start();
      expect(await built.registry.sync()).toBe('failed');
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    }
    expect(built.registry.isLoaded).toBe(false);
    expect(built.readiness()).toMatchObject({ isReady: false, checks: { registry: 'not-loaded' } });
    expect(logs.find({ code: 'DMR_REGISTRY_FETCH_FAILED' }).length).toBeGreaterThan(0);
  });

  it('refuses an http:// registry at start unless DMR_ALLOW_INSECURE_REGISTRY=true, and then warns on every sync', async () => {
    const a = await makeIdentity('ec');
    const registry = await serveRegistry([a], 'http');
    cleanups.push(registry.close);
    expect(() => loadServerConfig(serverEnv(rabbit, registry.url))).toThrow(/CENTOPS_CONFIGURATION_URL uses http:\/\//);
    const s1 = await server(registry.url, { DMR_ALLOW_INSECURE_REGISTRY: 'true' });
    expect(s1.server.registry.agentIds()).toEqual([a.id]);
    expect(s1.logs.find({ insecure: 'http' }).length).toBeGreaterThan(0);
  });

  it('keeps the registry in force when the next one is empty or drops more than CENTOPS_MAX_REMOVED_SHARE; a forced sync applies it', async () => {
    const agents = await Promise.all([makeIdentity('ec'), makeIdentity('ec'), makeIdentity('ec'), makeIdentity('ec')]);
    const [a, b] = agents;
    const registry = new RegistryFile(agents);
    cleanups.push(() => registry.remove());
    const s1 = await server(registry.url, { CENTOPS_CONFIGURATION_CRON_TIME: '0 0 1 1 *' });
    const rawA = await connectRawAgent(s1.url, a);
    cleanups.push(() => rawA.close());
    const rawB = await connectRawAgent(s1.url, b);
    cleanups.push(() => rawB.close());

    registry.write([]);
    expect(await s1.server.registry.sync()).toBe('refused');
    registry.write([a]);
    expect(await s1.server.registry.sync()).toBe('refused');
    expect(s1.logs.find({ code: 'DMR_REGISTRY_EMPTY' })).toHaveLength(1);
    expect(s1.logs.find({ code: 'DMR_REGISTRY_MASS_REMOVAL' })).toHaveLength(1);
    expect(s1.server.registry.agentIds()).toHaveLength(4);
    expect(s1.server.gateway.connectedAgentIds().sort()).toEqual([a.id, b.id].sort());
    expect(
      await rawA.send({
        id: 'm1',
        timestamp: new Date().toISOString(),
        senderId: a.id,
        recipientId: b.id,
        type: 'ChatMessage',
        payload: 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn',
      }),
    ).toEqual({ status: 'ok' });
    const metrics = await s1.server.metrics.registry.getSingleMetricAsString('dmr_registry_syncs_total');
    expect(metrics).toMatch(/result="refused"} 2/);

    // the operator means it: one forced sync (SIGHUP in dmr-server) applies it and disconnects B
    expect(await s1.server.registry.sync({ force: true })).toBe('changed');
    await waitUntil(() => !s1.server.gateway.connectedAgentIds().includes(b.id), 5000, 'B disconnected');
    expect(s1.server.registry.agentIds()).toEqual([a.id]);
  });
});
