/**
 * Several server URLs (comma-separated DMR_SERVER_WEBSOCKET_URL): round-robin failover on a failed connect and
 * on a lost connection; and a delivery that was in flight when its connection died is never acknowledged on
 * the next connection (servers number acks from 0 per process, so such an ack could settle another delivery).
 */
import { randomUUID } from 'node:crypto';
import { importPrivateKey, importPublicKey, sealPayload, type WireMessage } from '@dmr/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeys, type TestKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

describe('link failover between several servers', () => {
  const cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function world() {
    const keys = generateKeys('ec');
    const sender = { id: `agent-${randomUUID()}`, keys: generateKeys('ec') };
    const id = `agent-${randomUUID()}`;
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

  it('moves to the next URL when a connect fails and when the connection is lost, round-robin', async () => {
    const { keys, id, receiver, first, second } = await world();
    first.refuseNext(1);
    const fixture = makeAgent({ id, keys, serverUrl: `${first.url}, ${second.url}`, endpointUrl: receiver.url });
    cleanup.push(() => fixture.agent.stop());
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);
    expect(first.handshakes.map((h) => h.outcome)).toEqual(['refused-by-test']);
    expect(second.socketsOf(id)).toHaveLength(1);

    second.disconnectAll();
    await waitFor('back on the first server', () => first.socketsOf(id).length === 1);
    await waitUntilReady(fixture.agent);
    expect(second.socketsOf(id)).toHaveLength(0);
  });

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
