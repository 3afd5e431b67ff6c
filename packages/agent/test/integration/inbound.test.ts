/**
 * The agent's inbound path against a STAND-IN server (TestDmrServer: a real Socket.IO peer with no RabbitMQ, not
 * dmr-server) that delivers whatever the test seals, by a sender that exists only as a key pair here, and reports
 * the agent's ack to the test; a real node:http receiver plays OUTGOING_MESSAGE_ENDPOINT. The stand-in is needed
 * because these tests deliver what a real server would not forward (tampered metadata, an unknown sender, a bad
 * payload, another recipient's message), redeliver the same id on cue, overlap two copies in flight, and read the
 * agent's ack verbatim. The same path end to end through the real server and RabbitMQ: relay.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { importPrivateKey, importPublicKey, sealPayload, type V1MessageBody, type WireMessage } from '@dmr/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateKeys, type TestKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, outcomeLines, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';

describe('against a stand-in server (TestDmrServer) delivering what the test seals: inbound delivery', () => {
  let server: TestDmrServer;
  let receiver: Receiver;
  let recipient: AgentFixture;
  let senderId: string;
  let senderKeys: TestKeys;

  /** Seals `body` from the test sender to the agent under test, as a sending agent would. */
  async function sealed(body: V1MessageBody): Promise<WireMessage> {
    const metadata = { id: body.id, senderId, recipientId: body.recipientId, type: body.type, timestamp: body.timestamp };
    const payload = await sealPayload(
      metadata,
      body.payload,
      importPrivateKey(senderKeys.privatePem),
      importPublicKey(recipient.keys.publicPem),
    );
    return { ...metadata, payload };
  }

  beforeEach(async () => {
    senderId = randomUUID();
    senderKeys = generateKeys('ec');
    const recipientKeys = generateKeys('ec');
    const recipientId = randomUUID();
    receiver = await Receiver.start();
    server = await TestDmrServer.start([
      { id: senderId, publicPem: senderKeys.publicPem },
      { id: recipientId, publicPem: recipientKeys.publicPem },
    ]);
    recipient = makeAgent({
      id: recipientId,
      keys: recipientKeys,
      serverUrl: server.url,
      endpointUrl: receiver.url,
      env: { OUTGOING_MESSAGE_RETRIES: '3' },
    });
    await recipient.agent.start();
    await waitUntilReady(recipient.agent);
  });

  afterEach(async () => {
    await recipient.agent.stop();
    await server.close();
    await receiver.close();
  });

  it('posts the exact original v1 body plus senderId, then acks ok', async () => {
    const body = v1Message(recipient.id);
    const ack = await server.deliver(recipient.id, await sealed(body));

    expect(ack).toEqual({ status: 'ok' });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.contentType).toBe('application/json');
    expect(receiver.requests[0]?.body).toEqual({ ...body, senderId });
    const lines = outcomeLines(recipient);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msgId: body.id, senderId, recipientId: recipient.id, direction: 'inbound', result: 'delivered' });
    expect(JSON.stringify(recipient.logLines)).not.toContain('secret question');
  });

  it('delivers a redelivered id once and still acks ok', async () => {
    const wire = await sealed(v1Message(recipient.id));
    const first = await server.deliver(recipient.id, wire);
    const second = await server.deliver(recipient.id, wire);

    expect([first, second]).toEqual([{ status: 'ok' }, { status: 'ok' }]);
    expect(receiver.requests).toHaveLength(1);
    const metrics = await recipient.agent.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('dmr_duplicates_suppressed_total 1');
  });

  it('posts once when the same id arrives again while the first delivery is in flight', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const wire = await sealed(v1Message(recipient.id));
    // only this message is held at the endpoint; anything else is answered at once
    receiver.respond = async (request) => {
      if ((request.body as { id: string }).id === wire.id) await gate;
      return 200;
    };
    const postsOf = (id: string) => receiver.requests.filter((request) => (request.body as { id: string }).id === id).length;
    const first = server.deliver(recipient.id, wire);
    // event 1: the first delivery is at the endpoint, held there: it is in flight
    await vi.waitFor(() => expect(postsOf(wire.id)).toBe(1), { timeout: 10_000, interval: 10 });
    let secondSettled = false;
    const second = server.deliver(recipient.id, wire).finally(() => (secondSettled = true));
    // event 2: a later message on the same socket acked, so the agent has taken the second copy in (the socket
    // hands messages over in order, and the copy joins the running attempt synchronously when it arrives)
    const marker = await sealed(v1Message(recipient.id));
    expect(await server.deliver(recipient.id, marker)).toEqual({ status: 'ok' });
    expect(secondSettled, 'the second copy waits for the attempt in flight').toBe(false);
    expect(postsOf(wire.id), 'the second copy did not post while the first was in flight').toBe(1);
    release();

    expect(await Promise.all([first, second])).toEqual([{ status: 'ok' }, { status: 'ok' }]);
    expect(postsOf(wire.id)).toBe(1);
    const results = outcomeLines(recipient)
      .filter((line) => line.msgId === wire.id)
      .map((line) => String(line.result));
    expect(results.sort()).toEqual(['delivered', 'duplicate']);
  });

  it('refuses metadata changed after sealing with DMR_CRYPTO_METADATA_MISMATCH and posts nothing', async () => {
    const wire = await sealed(v1Message(recipient.id));
    const tampered = { ...wire, timestamp: '2030-01-01T00:00:00.000Z' };
    const ack = await server.deliver(recipient.id, tampered);

    expect(ack.status).toBe('error');
    expect(ack.errors?.[0]?.code).toBe('DMR_CRYPTO_METADATA_MISMATCH');
    expect(receiver.requests).toHaveLength(0);
    expect(outcomeLines(recipient)[0]).toMatchObject({ result: 'refused', code: 'DMR_CRYPTO_METADATA_MISMATCH' });
  });

  it('retries an endpoint answering 500, then acks DMR_DELIVERY_ENDPOINT_FAILED with the status', async () => {
    receiver.respond = () => 500;
    const ack = await server.deliver(recipient.id, await sealed(v1Message(recipient.id)));

    expect(ack.status).toBe('error');
    expect(ack.errors?.[0]?.code).toBe('DMR_DELIVERY_ENDPOINT_FAILED');
    expect(ack.errors?.[0]?.message).toContain('HTTP 500');
    expect(receiver.requests).toHaveLength(3);
  });

  it('delivers when a retry succeeds, and a failed delivery is not remembered as delivered', async () => {
    receiver.respond = (_request, index) => (index === 0 ? 503 : 200);
    const retried = await server.deliver(recipient.id, await sealed(v1Message(recipient.id)));
    expect(retried).toEqual({ status: 'ok' });
    expect(receiver.requests).toHaveLength(2);

    receiver.respond = () => 500;
    const wire = await sealed(v1Message(recipient.id));
    expect((await server.deliver(recipient.id, wire)).status).toBe('error');
    receiver.respond = () => 200;
    expect(await server.deliver(recipient.id, wire)).toEqual({ status: 'ok' });
    expect(receiver.requests.at(-1)?.body).toMatchObject({ id: wire.id, senderId });
  });

  it('acks DMR_CRYPTO_UNKNOWN_SENDER for a sender without a key, and DMR_DELIVERY_INVALID_MESSAGE for bad input', async () => {
    const wire = await sealed(v1Message(recipient.id));
    const unknown = await server.deliver(recipient.id, { ...wire, senderId: 'agent-unknown' });
    const malformed = await server.deliver(recipient.id, { ...wire, payload: 'not-a-jwe' });
    const elsewhere = await server.deliver(recipient.id, { ...wire, recipientId: 'agent-other' });

    expect(unknown.errors?.[0]?.code).toBe('DMR_CRYPTO_UNKNOWN_SENDER');
    expect(malformed.errors?.[0]).toMatchObject({ type: 'DECRYPTION_FAILED', code: 'DMR_DELIVERY_INVALID_MESSAGE' });
    expect(malformed.errors?.[0]?.message).toContain('payload');
    expect(elsewhere.errors?.[0]?.code).toBe('DMR_DELIVERY_INVALID_MESSAGE');
    expect(receiver.requests).toHaveLength(0);
  });
});
