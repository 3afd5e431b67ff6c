/**
 * The link's side of versioned agent lists against a STAND-IN server (TestDmrServer: a real Socket.IO peer with no
 * RabbitMQ, not dmr-server). The stand-in is needed because a real server cannot be made to send a delta that does
 * not fit the list the agent holds: here it plays that inconsistent relay, and the agent must drop its version and
 * reconnect for the full list. What a real server sends (nothing, a delta, the full list): test/e2e/agent-list-deltas.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { type AgentInfo, agentListVersion, EVENTS } from '@dmr/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

describe('against a stand-in server (TestDmrServer): versioned agent lists', () => {
  const cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setup(): Promise<{ server: TestDmrServer; fixture: AgentFixture; peerId: string; peerPem: string }> {
    const keys = generateKeys('ec');
    const id = randomUUID();
    const peerId = randomUUID();
    const peerPem = generateKeys('ec').publicPem;
    const receiver = await Receiver.start();
    const server = await TestDmrServer.start([
      { id, publicPem: keys.publicPem },
      { id: peerId, publicPem: peerPem },
    ]);
    // versioned like dmr-server: `[agents, {version}]` to an agent that announced the feature
    server.connectList = (agents, auth) =>
      Array.isArray(auth.features) && auth.features.includes('agent-list-delta')
        ? [agents, { version: agentListVersion(agents) }]
        : [agents];
    const fixture = makeAgent({ id, keys, serverUrl: server.url, endpointUrl: receiver.url });
    cleanup.push(
      () => receiver.close(),
      () => server.close(),
      () => fixture.agent.stop(),
    );
    return { server, fixture, peerId, peerPem };
  }

  const versionsAnnounced = (server: TestDmrServer) => server.handshakes.map((h) => h.auth.agentListVersion);
  /** Status of a POST to `recipientId` (202 while it is listed with a trusted key, 400 once unknown). */
  const postTo = async (fixture: AgentFixture, recipientId: string) =>
    (await fixture.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(recipientId) })).statusCode;
  const applied = (fixture: AgentFixture) => fixture.logLines.filter((line) => line.msg === 'agent list applied');

  it('announces the version it holds on reconnect, after a full list and after a delta it applied', async () => {
    const { server, fixture, peerId } = await setup();
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);
    const v1 = agentListVersion(server.agents());
    expect(server.handshakes[0]?.auth.features).toEqual(['delivery-deadline', 'agent-list-delta']);

    const removed: AgentInfo = { ...(server.agents().find((agent) => agent.id === peerId) as AgentInfo), deleted: true };
    const v2 = agentListVersion(server.agents().filter((agent) => agent.id !== peerId));
    server.sendListEvent(EVENTS.partialList, [[removed], { version: v2, baseVersion: v1 }]);
    await waitFor('the delta applied', () => applied(fixture).length === 2);
    expect(applied(fixture).map((line) => [line.kind, line.version])).toEqual([
      ['full', v1],
      ['partial', v2],
    ]);
    expect(await postTo(fixture, peerId)).toBe(400);
    server.disconnectAll();
    await waitFor('second handshake', () => server.handshakes.length === 2);
    await waitUntilReady(fixture.agent);
    expect(versionsAnnounced(server)).toEqual([undefined, v2]);
  });

  it('drops its version and reconnects for the full list when a delta does not start from the version it holds', async () => {
    const { server, fixture, peerId } = await setup();
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);
    const v1 = agentListVersion(server.agents());
    const stray = agentListVersion([]);
    const removed: AgentInfo = { ...(server.agents().find((agent) => agent.id === peerId) as AgentInfo), deleted: true };
    server.sendListEvent(EVENTS.partialList, [[removed], { version: stray, baseVersion: stray }]);
    await waitFor('a reconnect', () => server.handshakes.length === 2);
    await waitUntilReady(fixture.agent);
    // the refused delta was not applied, and the new connection asked for the whole list (no version announced)
    expect(versionsAnnounced(server)).toEqual([undefined, undefined]);
    expect(await postTo(fixture, peerId)).toBe(202);
    expect(fixture.logLines.some((line) => String(line.msg).startsWith('agent list out of step'))).toBe(true);
    expect(server.handshakes.map((h) => h.outcome)).toEqual(['accepted', 'accepted']);
    // and it holds the full list's version again
    server.disconnectAll();
    await waitFor('third handshake', () => server.handshakes.length === 3);
    expect(versionsAnnounced(server)).toEqual([undefined, undefined, v1]);
  });
});
