/**
 * POST /v1/messages driven through app.inject() against a real agent whose link is connected to a STAND-IN server
 * (TestDmrServer: a real Socket.IO peer on 127.0.0.1 with no RabbitMQ, not dmr-server) that records the wire
 * messages it got and acks by test policy. The stand-in is needed because these tests hold the server's ack on cue
 * (202 only after it), make it answer a chosen error, never answer, or hold it across a stop, and read the exact
 * wire message the agent emitted. That a 202 means the message is in the recipient's queue, and that it arrives:
 * backpressure.test.ts and relay.test.ts, against the real dmr-server and RabbitMQ.
 */
import { randomUUID } from 'node:crypto';
import { importPrivateKey, importPublicKey, openPayload } from '@dmr/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeys, type TestKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, outcomeLines, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

/** Recipient ids go through POST /v1/messages, which takes UUIDs only (seed 003). */
const AGENT_B = randomUUID();
/** An id no agent list names. */
const NOBODY = randomUUID();

describe.each(['rsa', 'ec'] as const)('against a stand-in server (TestDmrServer): outbound with %s keys', (kind) => {
  let server: TestDmrServer;
  let receiver: Receiver;
  let sender: AgentFixture;
  let recipientId: string;
  let recipientKeys: TestKeys;

  beforeEach(async () => {
    recipientId = randomUUID();
    recipientKeys = generateKeys(kind);
    receiver = await Receiver.start();
    const senderKeys = generateKeys(kind);
    const senderId = randomUUID();
    server = await TestDmrServer.start([
      { id: senderId, publicPem: senderKeys.publicPem },
      { id: recipientId, publicPem: recipientKeys.publicPem },
    ]);
    sender = makeAgent({
      id: senderId,
      keys: senderKeys,
      serverUrl: server.url,
      endpointUrl: receiver.url,
      env: { DMR_MAX_MESSAGE_BYTES: '4096' },
    });
    await sender.agent.start();
    await waitUntilReady(sender.agent);
  });

  afterEach(async () => {
    await sender.agent.stop();
    await server.close();
    await receiver.close();
  });

  it('answers 202 only after the server acked, with a wire message the recipient can open', async () => {
    const body = v1Message(recipientId);
    // the peer holds its ack for this message until the test lets it go; any other message is acked at once
    let releaseAck: () => void = () => undefined;
    const ackHeld = new Promise<void>((resolve) => (releaseAck = resolve));
    server.ackPolicy = async (message) => {
      if (message.id === body.id) await ackHeld;
      return { status: 'ok' };
    };
    let answered = false;
    const pending = sender.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: body }).finally(() => (answered = true));
    // event 1: the message is at the server, unacked
    await waitFor('the message at the server', () => server.received.some((wire) => wire.id === body.id));
    // event 2: a later message went through the same agent and link, and got its 202 on the server's ack
    const later = await sender.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(recipientId) });
    expect(later.statusCode).toBe(202);
    expect(answered, 'no answer to the caller while the server has not acked').toBe(false);
    releaseAck();
    const response = await pending;

    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ id: body.id, status: 'accepted' });
    expect(server.received.filter((wire) => wire.id === body.id)).toHaveLength(1);
    const wire = server.received.find((received) => received.id === body.id);
    if (!wire) throw new Error('no wire message');
    expect(wire).toMatchObject({ id: body.id, senderId: sender.id, recipientId, timestamp: body.timestamp, type: 'ChatMessage' });
    expect(Object.keys(wire).sort()).toEqual(['id', 'payload', 'recipientId', 'senderId', 'timestamp', 'type']);
    expect(wire.payload).not.toContain('secret');
    const opened = await openPayload(wire.payload, wire, {
      recipientKey: importPrivateKey(recipientKeys.privatePem),
      senderKey: importPublicKey(sender.keys.publicPem),
      allowUnboundMetadata: false,
    });
    expect(opened).toEqual({ ok: true, value: body.payload });
  });

  it('refuses an invalid body with 400 naming every bad field, and emits nothing', async () => {
    const body = { ...v1Message(recipientId), timestamp: 'yesterday', extra: 1 } as Record<string, unknown>;
    const payload = body.payload as { messages: Record<string, unknown>[] };
    payload.messages[0] = { ...payload.messages[0], authorTimestamp: 42 };
    const response = await sender.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: body });

    expect(response.statusCode).toBe(400);
    const json = response.json();
    expect(json).toMatchObject({ statusCode: 400, code: 'DMR_VALIDATION_FAILED' });
    const paths = (json.errors as { path: string }[]).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(['timestamp', 'extra', 'payload.messages.0.authorTimestamp']));
    expect(server.received).toHaveLength(0);
  });

  it('answers 413 for a body over DMR_MAX_MESSAGE_BYTES', async () => {
    const body = v1Message(recipientId);
    const first = body.payload.messages[0];
    if (!first) throw new Error('sample message has no entry');
    const large = { ...body, payload: { ...body.payload, messages: [{ ...first, content: 'x'.repeat(5000) }] } };
    const response = await sender.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: large });

    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ statusCode: 413, code: 'DMR_VALIDATION_TOO_LARGE' });
    expect(outcomeLines(sender)).toMatchObject([{ direction: 'outbound', result: 'refused', code: 'DMR_VALIDATION_TOO_LARGE' }]);
    expect(server.received).toHaveLength(0);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const invalid = await sender.agent.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'content-type': 'application/json' },
      payload: '{"id": ',
    });
    const text = await sender.agent.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'content-type': 'text/plain' },
      payload: 'hi',
    });

    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ statusCode: 400, code: 'DMR_VALIDATION_FAILED' });
    expect(text.statusCode).toBe(400);
    expect(text.json()).toMatchObject({ statusCode: 400, code: 'DMR_VALIDATION_FAILED' });
  });

  it('answers 400 DMR_VALIDATION_UNKNOWN_RECIPIENT for an agent not in the list', async () => {
    const response = await sender.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(NOBODY) });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'DMR_VALIDATION_UNKNOWN_RECIPIENT', errors: [{ path: 'recipientId' }] });
    expect(server.received).toHaveLength(0);
  });

  it('answers 502 DMR_LINK_REJECTED with the server reason when the server acks an error', async () => {
    server.ackPolicy = () => ({ status: 'error', error: 'DMR_ROUTE_PUBLISH_FAILED', reason: 'broker did not confirm' });
    const response = await sender.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(recipientId) });

    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({
      statusCode: 502,
      code: 'DMR_LINK_REJECTED',
      serverCode: 'DMR_ROUTE_PUBLISH_FAILED',
      reason: 'broker did not confirm',
    });
  });

  it('logs exactly one outcome line per message, without content', async () => {
    const body = v1Message(recipientId);
    await sender.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: body });

    const lines = outcomeLines(sender).filter((line) => line.msgId === body.id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ direction: 'outbound', result: 'accepted', senderId: sender.id, recipientId, type: 'ChatMessage' });
    expect(typeof lines[0]?.durationMs).toBe('number');
    expect(JSON.stringify(sender.logLines)).not.toContain('secret question');
  });
});

describe('against a stand-in server (TestDmrServer) or none: outbound without a usable server', () => {
  it('answers 502 DMR_LINK_NOT_CONNECTED when no server is reachable', async () => {
    const receiver = await Receiver.start();
    // A peer that was started and closed again leaves a port nobody listens on.
    const gone = await TestDmrServer.start();
    const url = gone.url;
    await gone.close();
    const fixture = makeAgent({ serverUrl: url, endpointUrl: receiver.url });
    await fixture.agent.start();
    try {
      const response = await fixture.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(AGENT_B) });
      expect(response.statusCode).toBe(502);
      expect(response.json()).toMatchObject({ statusCode: 502, code: 'DMR_LINK_NOT_CONNECTED' });
      const ready = await fixture.agent.app.inject({ method: 'GET', url: '/v1/ready' });
      expect(ready.statusCode).toBe(503);
    } finally {
      await fixture.agent.stop();
      await receiver.close();
    }
  });

  it('answers 504 DMR_LINK_TIMEOUT when the server never acks', async () => {
    const receiver = await Receiver.start();
    const keys = generateKeys('ec');
    const peerKeys = generateKeys('ec');
    const id = randomUUID();
    const server = await TestDmrServer.start([
      { id, publicPem: keys.publicPem },
      { id: AGENT_B, publicPem: peerKeys.publicPem },
    ]);
    server.ackPolicy = () => undefined;
    const fixture = makeAgent({ id, keys, serverUrl: server.url, endpointUrl: receiver.url, env: { MESSAGE_DELIVERY_TIMEOUT_MS: '200' } });
    await fixture.agent.start();
    try {
      await waitUntilReady(fixture.agent);
      const response = await fixture.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(AGENT_B) });
      expect(response.statusCode).toBe(504);
      expect(response.json()).toMatchObject({ statusCode: 504, code: 'DMR_LINK_TIMEOUT' });
      expect(server.received).toHaveLength(1);
    } finally {
      await fixture.agent.stop();
      await server.close();
      await receiver.close();
    }
  });

  it('drains an in-flight send on stop, and refuses new sends with 503 meanwhile', async () => {
    const receiver = await Receiver.start();
    const keys = generateKeys('ec');
    const id = randomUUID();
    const server = await TestDmrServer.start([
      { id, publicPem: keys.publicPem },
      { id: AGENT_B, publicPem: generateKeys('ec').publicPem },
    ]);
    let releaseAck: () => void = () => undefined;
    server.ackPolicy = () => new Promise((resolve) => (releaseAck = () => resolve({ status: 'ok' })));
    const fixture = makeAgent({ id, keys, serverUrl: server.url, endpointUrl: receiver.url });
    await fixture.agent.start();
    await waitUntilReady(fixture.agent);

    const inFlight = fixture.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(AGENT_B) });
    await waitFor('message at the server', () => server.received.length === 1);
    const stopping = fixture.agent.stop();
    const refused = await fixture.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(AGENT_B) });
    releaseAck();

    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ statusCode: 503, code: 'DMR_LIFECYCLE_SHUTTING_DOWN' });
    expect((await inFlight).statusCode).toBe(202);
    await stopping;
    expect(fixture.agent.state).toBe('stopped');
    expect(fixture.agent.linkState).toBe('closed');
    await server.close();
    await receiver.close();
  });
});
