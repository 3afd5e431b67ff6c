/**
 * Graceful and forced stop with a delivery in flight, against a STAND-IN server (TestDmrServer: a real Socket.IO
 * peer with no RabbitMQ, not dmr-server) and a real node:http receiver that answers only when the test lets it.
 * The stand-in is needed because these tests emit a delivery by hand at a chosen moment (one during the drain) and
 * read the agent's ack for it, or its absence, directly.
 */
import { randomUUID } from 'node:crypto';
import { importPrivateKey, importPublicKey, sealPayload, type WireMessage } from '@dmr/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

describe('against a stand-in server (TestDmrServer): stop with an inbound delivery in flight', () => {
  const cleanup: (() => Promise<void>)[] = [];
  let release: () => void = () => undefined;

  afterEach(async () => {
    release();
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** An agent whose endpoint holds every request until `release()`, and one sealed message for it. */
  async function setup(
    env: Record<string, string> = {},
  ): Promise<{ server: TestDmrServer; fixture: AgentFixture; receiver: Receiver; wire: WireMessage }> {
    const senderKeys = generateKeys('ec');
    const keys = generateKeys('ec');
    const senderId = randomUUID();
    const id = randomUUID();
    const receiver = await Receiver.start();
    const held = new Promise<void>((resolve) => (release = resolve));
    receiver.respond = async () => {
      await held;
      return 200;
    };
    const server = await TestDmrServer.start([
      { id: senderId, publicPem: senderKeys.publicPem },
      { id, publicPem: keys.publicPem },
    ]);
    const fixture = makeAgent({ id, keys, serverUrl: server.url, endpointUrl: receiver.url, env });
    cleanup.push(
      () => receiver.close(),
      () => server.close(),
      () => fixture.agent.stop({ force: true }),
    );
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);
    const body = v1Message(id);
    const metadata = { id: body.id, senderId, recipientId: id, type: body.type, timestamp: body.timestamp };
    const payload = await sealPayload(metadata, body.payload, importPrivateKey(senderKeys.privatePem), importPublicKey(keys.publicPem));
    return { server, fixture, receiver, wire: { ...metadata, payload } };
  }

  it('waits for the delivery, acks it ok, and only then closes the socket', async () => {
    const { server, fixture, receiver, wire } = await setup();
    const ack = server.deliver(fixture.id, wire);
    await waitFor('request at the endpoint', () => receiver.requests.length === 1);
    const stopping = fixture.agent.stop();
    // New deliveries during the drain are refused with a transient code, so the server requeues them.
    const late = await server.deliver(fixture.id, { ...wire, id: randomUUID() });
    expect(late.errors?.[0]?.code).toBe('DMR_LIFECYCLE_SHUTTING_DOWN');
    expect(fixture.agent.linkState).toBe('connected');
    release();

    expect(await ack).toEqual({ status: 'ok' });
    await stopping;
    expect(fixture.agent.linkState).toBe('closed');
    expect(receiver.requests).toHaveLength(1);
  });

  it('gives up at DMR_SHUTDOWN_TIMEOUT_MS and aborts the delivery without acking ok', async () => {
    const { server, fixture, receiver, wire } = await setup({ DMR_SHUTDOWN_TIMEOUT_MS: '200' });
    const ack = server.deliver(fixture.id, wire, 1000).catch((error: unknown) => error);
    await waitFor('request at the endpoint', () => receiver.requests.length === 1);
    const startedAt = Date.now();
    await fixture.agent.stop();

    expect(Date.now() - startedAt).toBeLessThan(1500);
    expect(await ack).not.toEqual({ status: 'ok' });
    expect(fixture.logLines.some((line) => line.msg === 'drain deadline passed; aborting in-flight deliveries')).toBe(true);
  });

  it('reports the delivery its own stop cut short as a shutdown refusal, not an endpoint failure (issue 15, finding 11)', async () => {
    const { server, fixture, receiver, wire } = await setup({ DMR_SHUTDOWN_TIMEOUT_MS: '200' });
    const ack = server.deliver(fixture.id, wire, 1000).catch((error: unknown) => error);
    await waitFor('request at the endpoint', () => receiver.requests.length === 1);
    await fixture.agent.stop();
    await ack;

    const outcome = fixture.logLines.find((line) => line.msgId === wire.id && line.direction === 'inbound');
    // the server retries a shutdown refusal without spending the delivery limit; an endpoint failure would spend it
    expect(outcome).toMatchObject({ code: 'DMR_LIFECYCLE_SHUTTING_DOWN' });
  });

  it('stops at once when forced, even during a graceful stop', async () => {
    const { server, fixture, receiver, wire } = await setup({ DMR_SHUTDOWN_TIMEOUT_MS: '30000' });
    const ack = server.deliver(fixture.id, wire, 1000).catch((error: unknown) => error);
    await waitFor('request at the endpoint', () => receiver.requests.length === 1);
    const graceful = fixture.agent.stop();
    const startedAt = Date.now();
    await fixture.agent.stop({ force: true });

    expect(Date.now() - startedAt).toBeLessThan(1500);
    await graceful;
    expect(fixture.agent.state).toBe('stopped');
    expect(await ack).not.toEqual({ status: 'ok' });
  });
});
