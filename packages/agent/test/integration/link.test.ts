/**
 * The agent's link against a STAND-IN server (TestDmrServer: a real Socket.IO peer with no RabbitMQ, not dmr-server):
 * handshake tokens, the agent's own reconnect loop, agent lists, readiness, metrics and stop. The stand-in is needed
 * because these tests make the server refuse handshakes on cue, record every token it was shown, kick the agent off
 * on cue, and send partial lists with entries a real server's registry would never hold (a key that cannot be
 * imported). Failover between real servers: link-failover.test.ts; the relay end to end: relay.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { AgentInfo } from '@dmr/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { agentCertificate } from '../helpers/peer-ca.js';
import { type AgentFixture, makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

/** Recipient ids go through POST /v1/messages, which takes UUIDs only (seed 003). */
const AGENT_B = randomUUID();
const AGENT_BROKEN = randomUUID();
/** An id no agent list names. */
const NOBODY = randomUUID();

describe('against a stand-in server (TestDmrServer): link', () => {
  const cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setup(env: Record<string, string> = {}): Promise<{ server: TestDmrServer; fixture: AgentFixture }> {
    const keys = generateKeys('ec');
    const id = randomUUID();
    const receiver = await Receiver.start();
    const server = await TestDmrServer.start([{ id, publicPem: keys.publicPem }]);
    const fixture = makeAgent({ id, keys, serverUrl: server.url, endpointUrl: receiver.url, env });
    cleanup.push(
      () => receiver.close(),
      () => server.close(),
      () => fixture.agent.stop(),
    );
    return { server, fixture };
  }

  it('retries by itself after the server middleware refuses the handshake, with a fresh token', async () => {
    const { server, fixture } = await setup();
    server.refuseNext(2);
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);

    expect(server.handshakes.map((h) => h.outcome)).toEqual(['refused-by-test', 'refused-by-test', 'accepted']);
    const tokens = server.handshakes.map((h) => h.token);
    expect(tokens.every((token) => typeof token === 'string' && token.length > 0)).toBe(true);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(server.handshakes[2]?.agentId).toBe(fixture.id);
    expect(fixture.agent.linkState).toBe('connected');
  });

  it('reconnects with a new token after the server disconnects it', async () => {
    const { server, fixture } = await setup();
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);
    server.disconnectAll();
    await waitFor('second handshake', () => server.handshakes.length === 2);
    await waitUntilReady(fixture.agent);

    expect(server.handshakes.map((h) => h.outcome)).toEqual(['accepted', 'accepted']);
    expect(server.handshakes[0]?.token).not.toBe(server.handshakes[1]?.token);
    expect(server.socketsOf(fixture.id)).toHaveLength(1);
  });

  it('reports readiness only when connected and a full list arrived', async () => {
    const { server, fixture } = await setup();
    const before = await fixture.agent.app.inject({ method: 'GET', url: '/v1/ready' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toEqual({ status: 'not_ready', checks: { server: 'disconnected', agentList: 'pending' } });

    await fixture.agent.start();
    await waitUntilReady(fixture.agent);
    const after = await fixture.agent.app.inject({ method: 'GET', url: '/v1/ready' });
    expect(after.json()).toEqual({ status: 'ok', checks: { server: 'connected', agentList: 'received' } });
    const health = await fixture.agent.app.inject({ method: 'GET', url: '/v1/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    expect(server.handshakes).toHaveLength(1);
  });

  it('applies partial lists and refuses to encrypt to an agent whose key cannot be imported', async () => {
    const { server, fixture } = await setup();
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);
    const now = new Date().toISOString();
    const entry = (id: string, pem: string): AgentInfo => ({
      id,
      name: id,
      authenticationCertificate: pem,
      createdAt: now,
      updatedAt: now,
    });
    const post = async (recipientId: string) =>
      (await fixture.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(recipientId) })).statusCode;

    const certificateB = await agentCertificate(AGENT_B, generateKeys('ec').publicPem);
    server.sendPartialList([entry(AGENT_B, certificateB), entry(AGENT_BROKEN, 'not a key')]);
    await waitFor('agent-b known', async () => (await post(AGENT_B)) === 202);
    // listed, but with nothing this agent can trust: 502 DMR_CRYPTO_PEER_KEY_UNTRUSTED, not "unknown recipient"
    expect(await post(AGENT_BROKEN)).toBe(502);

    server.sendPartialList([{ ...entry(AGENT_B, ''), deleted: true }]);
    await waitFor('agent-b removed', async () => (await post(AGENT_B)) === 400);
    expect(fixture.logLines.some((line) => line.agentId === AGENT_BROKEN && line.msg === 'skipped an agent whose key cannot be used')).toBe(
      true,
    );
  });

  it('exposes seed 003 metric names with route patterns and socket labels', async () => {
    const { fixture } = await setup();
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);
    await fixture.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(NOBODY) });
    await fixture.agent.app.inject({ method: 'GET', url: '/no/such/route' });
    const metrics = await fixture.agent.app.inject({ method: 'GET', url: '/metrics' });

    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    const text = metrics.body;
    expect(text).toContain('dmr_http_requests_total{method="POST",route="/v1/messages",status="400"} 1');
    expect(text).toContain('dmr_http_errors_total{method="POST",route="/v1/messages"} 1');
    expect(text).toContain('route="unmatched"');
    expect(text).not.toContain('/no/such/route');
    expect(text).toContain('dmr_agent_socket_connection_active 1');
    expect(text).toContain('dmr_socket_events_received_total{event="dmr:agents:full-list",namespace="/v1/dmr-agent-events"} 1');
    expect(text).toContain('dmr_messages_total{direction="outbound",result="refused",code="DMR_VALIDATION_UNKNOWN_RECIPIENT"} 1');
    expect(text).toContain('# TYPE dmr_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE dmr_message_processing_duration_seconds histogram');
    expect(text).toContain('# TYPE dmr_duplicates_suppressed_total counter');
  });

  it('stops promptly while a reconnect is pending, and never connects again', async () => {
    const { server, fixture } = await setup({ WEBSOCKET_RECONNECTION_DELAY: '2000', WEBSOCKET_RECONNECTION_DELAY_MAX: '2000' });
    server.refuseNext(100);
    await fixture.agent.start();
    await waitFor('first refusal', () => server.handshakes.length === 1);
    const startedAt = Date.now();
    await fixture.agent.stop();

    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(fixture.agent.state).toBe('stopped');
    expect(fixture.agent.linkState).toBe('closed');
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect(server.handshakes).toHaveLength(1);
    // stop() is memoised: a second call resolves to the same completed stop.
    await expect(fixture.agent.stop({ force: true })).resolves.toBeUndefined();
    await expect(fixture.agent.start()).rejects.toMatchObject({ code: 'DMR_LIFECYCLE_SHUTTING_DOWN' });
  });
});
