/**
 * Several server URLs (comma-separated DMR_SERVER_WEBSOCKET_URL).
 *
 * Round-robin failover on a refused handshake and on a lost connection runs against REAL dmr-servers (in-process
 * buildServer, mutual TLS) sharing a real RabbitMQ vhost, and ends with a message relayed to the agent over the
 * server it failed over to.
 *
 * Against stand-in servers (TestDmrServer, a Socket.IO protocol peer with no RabbitMQ): a delivery that was in
 * flight when its connection died is never acknowledged on the next connection (servers number acks from 0 per
 * process, so such an ack could settle another delivery). Seeing that needs the raw ack packets on the next
 * connection and a delivery the test emits by hand, which a real server does not expose.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { importPrivateKey, importPublicKey, sealPayload, type WireMessage } from '@dmr/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  makeIdentity,
  postMessage,
  RegistryFile,
  Receiver as SystemReceiver,
  serverEnv,
  startAgent,
  startServer,
  waitUntil,
} from '../../../../test/support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { generateKeys, type TestKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

describe('link failover between several real dmr-servers', () => {
  let rabbit: RabbitVhostHandle;
  const cleanup: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
  });

  afterAll(async () => {
    await rabbit.cleanup();
  });

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('moves to the next URL when a connect fails and when the connection is lost, round-robin, and takes deliveries there', async () => {
    const x = await makeIdentity('ec');
    const sender = await makeIdentity('ec');
    // the first server does not know x yet: it refuses x's handshake, as a real server refuses an unknown agent
    const registryFirst = new RegistryFile([sender]);
    const registrySecond = new RegistryFile([x, sender]);
    const receiver = await new SystemReceiver().start();
    cleanup.push(
      () => registryFirst.remove(),
      () => registrySecond.remove(),
      () => receiver.close(),
    );
    const first = await startServer(serverEnv(rabbit, registryFirst.url));
    cleanup.push(() => first.server.stop());
    const second = await startServer(serverEnv(rabbit, registrySecond.url));
    cleanup.push(() => second.server.stop());
    // the raw TCP connections into the second server, to cut them under a server that stays up
    const intoSecond: Socket[] = [];
    second.server.app.server.on('connection', (socket: Socket) => intoSecond.push(socket));

    const agent = await startAgent(x, `${first.url}, ${second.url}`, receiver.url);
    cleanup.push(() => agent.agent.stop());
    expect(first.logs.find({ msg: 'agent handshake refused' })).toHaveLength(1);
    expect(first.server.gateway.connectedAgentIds()).toEqual([]);
    expect(second.server.gateway.connectedAgentIds()).toEqual([x.id]);

    registryFirst.write([x, sender]);
    await waitUntil(() => first.server.registry.keyOf(x.id) !== undefined, 10_000, 'the first server knows x');
    // connection lost (not a server's goodbye): the second server is still up and would take x back
    for (const socket of intoSecond) socket.destroy();
    // 'agent connected' is logged once its consumer runs, a moment after the session exists
    await waitUntil(() => first.logs.find({ msg: 'agent connected', agentId: x.id }).length === 1, 10_000, 'x on the first server');
    await waitUntil(() => !second.server.gateway.connectedAgentIds().includes(x.id), 10_000, 'x gone from the second server');
    expect(second.logs.find({ msg: 'agent connected', agentId: x.id }), 'x never went back to the second server').toHaveLength(1);
    expect(first.logs.find({ msg: 'agent connected', agentId: x.id })).toHaveLength(1);

    // the connection it failed over to carries deliveries: a message from another agent arrives once
    const senderAgent = await startAgent(sender, first.url, receiver.url);
    cleanup.push(() => senderAgent.agent.stop());
    const body = v1Message(x.id);
    expect((await postMessage(senderAgent.url, body)).status).toBe(202);
    await waitUntil(() => receiver.received.length === 1, 10_000, 'delivery to x');
    expect(receiver.received).toEqual([{ ...body, senderId: sender.id }]);
    expect(second.server.gateway.connectedAgentIds()).toEqual([]);
  });
});

describe('against stand-in servers (TestDmrServer): link failover', () => {
  const cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function world() {
    const keys = generateKeys('ec');
    const sender = { id: randomUUID(), keys: generateKeys('ec') };
    const id = randomUUID();
    const registry = [
      { id, publicPem: keys.publicPem },
      { id: sender.id, publicPem: sender.keys.publicPem },
    ];
    const receiver = await Receiver.start();
    const first = await TestDmrServer.start(registry);
    const second = await TestDmrServer.start(registry);
    cleanup.push(
      () => receiver.close(),
      () => first.close(),
      () => second.close(),
    );
    return { keys, sender, id, receiver, first, second };
  }

  it('never sends the ack of a delivery from a closed connection over the next one', async () => {
    const { keys, sender, id, receiver, first, second } = await world();
    receiver.respond = () => new Promise((resolve) => setTimeout(() => resolve(200), 600));
    const fixture = makeAgent({ id, keys, serverUrl: `${first.url},${second.url}`, endpointUrl: receiver.url });
    cleanup.push(() => fixture.agent.stop());
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);

    const wire = await seal(v1Message(id), sender, keys);
    const pending = first.deliver(id, wire, 1500).catch((error: Error) => error);
    await waitFor('endpoint got the delivery', () => receiver.requests.length === 1);
    first.disconnectAll();
    await waitFor('connected to the second server', () => second.socketsOf(id).length === 1);
    const acks = countAckPackets(second, id);
    await waitFor('the slow endpoint answered', () => fixture.logLines.some((line) => line.msg === 'message outcome'), 5000);
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(acks.count).toBe(0);
    expect(await pending).toBeInstanceOf(Error);
    expect(receiver.requests).toHaveLength(1);
  });
});

async function seal(body: ReturnType<typeof v1Message>, sender: { id: string; keys: TestKeys }, recipient: TestKeys): Promise<WireMessage> {
  const metadata = { id: body.id, senderId: sender.id, recipientId: body.recipientId, type: body.type, timestamp: body.timestamp };
  const payload = await sealPayload(metadata, body.payload, importPrivateKey(sender.keys.privatePem), importPublicKey(recipient.publicPem));
  return { ...metadata, payload };
}

/** Counts socket.io ACK packets (`3…`) the agent sends on its connection to `server`. */
function countAckPackets(server: TestDmrServer, agentId: string): { count: number } {
  const counter = { count: 0 };
  for (const socket of server.socketsOf(agentId)) {
    socket.conn.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type === 'message' && typeof packet.data === 'string' && packet.data.startsWith('3')) counter.count++;
    });
  }
  return counter;
}
