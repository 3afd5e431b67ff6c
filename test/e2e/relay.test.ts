// Issue #2 acceptance: the relay core end to end, with real servers, agents, sockets, crypto and RabbitMQ.
import { randomUUID } from 'node:crypto';
import {
  agentDeadLetterQueueName,
  agentQueueName,
  createAgentToken,
  importPrivateKey,
  importPublicKey,
  sealPayload,
  VALIDATION_FAILURES_QUEUE,
} from '@dmr/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { peekQueue, queueDepth, type RabbitVhostInfo, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent, connectRawAgentWithToken } from '../support/raw-agent.js';

describe('relay core', () => {
  let rabbit: RabbitVhostInfo & { cleanup: () => Promise<void> };
  let registry: RegistryFile;
  let a: Identity;
  let b: Identity;
  let receiver: Receiver;
  const started: Array<{ stop: () => Promise<void> }> = [];

  async function server(extra: Record<string, string> = {}): Promise<RunningServer> {
    const running = await startServer(serverEnv(rabbit, registry.url, { RABBITMQ_DELIVERY_LIMIT: '3', ...extra }));
    started.push({ stop: () => running.server.stop() });
    return running;
  }

  async function agent(identity: Identity, serverUrl: string, extra: Record<string, string> = {}, waitReady = true): Promise<RunningAgent> {
    const running = await startAgent(identity, serverUrl, receiver.url, { OUTGOING_MESSAGE_RETRIES: '2', ...extra }, { waitReady });
    started.push({ stop: () => running.agent.stop() });
    return running;
  }

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
  });

  afterAll(async () => {
    await rabbit.cleanup();
  });

  beforeEachSetup();

  function beforeEachSetup(): void {
    // each test gets fresh agents (fresh queues) and a fresh receiver on the shared vhost
    afterEach(async () => {
      for (const component of started.splice(0).reverse()) await component.stop();
      await receiver.close();
      registry.remove();
    });
  }

  async function freshWorld(): Promise<void> {
    a = await makeIdentity('ec');
    b = await makeIdentity('rsa');
    registry = new RegistryFile([a, b]);
    receiver = await new Receiver().start();
  }

  it('delivers A→B across two server instances, mixing EC and RSA keys, with the original v1 body', async () => {
    await freshWorld();
    const s1 = await server();
    const s2 = await server();
    const agentA = await agent(a, s1.url);
    await agent(b, s2.url);
    expect(s1.server.gateway.connectedAgentIds()).toEqual([a.id]);
    expect(s2.server.gateway.connectedAgentIds()).toEqual([b.id]);

    const body = v1Body(b.id);
    const response = await postMessage(agentA.url, body);
    expect(response).toEqual({ status: 202, body: { id: body.id, status: 'accepted' } });
    await waitUntil(() => receiver.received.length === 1, 10_000, 'delivery to B');
    expect(receiver.received[0]).toEqual({ ...body, senderId: a.id });

    // the server logs the outcome once B's ack arrived, a moment after the endpoint got the message
    await waitUntil(() => s2.logs.find({ stage: 'delivery', result: 'delivered', msgId: body.id }).length > 0, 10_000, 'outcome logged');
    const outcome = s2.logs.find({ stage: 'delivery', result: 'delivered', msgId: body.id });
    expect(outcome).toHaveLength(1);
    for (const logs of [s1.logs, s2.logs, agentA.logs]) expect(logs.text.join('\n')).not.toContain(body.payload.messages[0]?.content);
  });

  it('answers 400 naming the field, 413 when too large, 400 for an unknown recipient, and loses nothing', async () => {
    await freshWorld();
    const s1 = await server();
    const agentA = await agent(a, s1.url, { DMR_MAX_MESSAGE_BYTES: '4096' });
    // B stays offline, so whatever reached the server for it is still in its queue to be counted
    const failuresBefore = await queueDepth(rabbit, VALIDATION_FAILURES_QUEUE);

    const malformed = await postMessage(agentA.url, { ...v1Body(b.id), timestamp: 'not-a-date', payload: { chat: {} } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('DMR_VALIDATION_FAILED');
    const paths = (malformed.body.errors as Array<{ path: string }>).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(['timestamp', 'payload.chat.id', 'payload.messages']));

    const notJson = await postMessage(agentA.url, '{"id": ');
    expect(notJson.status).toBe(400);

    const oversized = await postMessage(agentA.url, v1Body(b.id, 'x'.repeat(5000)));
    expect(oversized).toMatchObject({ status: 413, body: { code: 'DMR_VALIDATION_TOO_LARGE' } });

    const unknown = await postMessage(agentA.url, v1Body(randomUUID()));
    expect(unknown).toMatchObject({ status: 400, body: { code: 'DMR_VALIDATION_UNKNOWN_RECIPIENT' } });

    // what actually happened: the refused messages stopped at agent A, and a good one after them still goes through.
    // The marker travels the same socket after them, so once it is queued anything sent before it was handled.
    const marker = v1Body(b.id);
    expect((await postMessage(agentA.url, marker)).status).toBe(202);
    const queued = await peekQueue(rabbit, agentQueueName(b.id), 1);
    expect(queued.map((message) => (JSON.parse(message.body) as { id: string }).id)).toEqual([marker.id]);
    expect(await queueDepth(rabbit, agentQueueName(b.id)), "B's queue holds the marker and nothing else").toBe(1);
    expect(await queueDepth(rabbit, agentDeadLetterQueueName(b.id)), "nothing in B's DLQ").toBe(0);
    expect(await queueDepth(rabbit, VALIDATION_FAILURES_QUEUE), 'nothing reached the server to be refused there').toBe(failuresBefore);
    const outcomes = agentA.logs.lines.filter((line) => line.msg === 'message outcome' && line.direction === 'outbound');
    expect(outcomes.map((line) => line.result)).toEqual(['refused', 'refused', 'refused', 'refused', 'accepted']);
  });

  it('refuses, records in dmr.validation-failures and explains: unknown recipient and forged sender', async () => {
    await freshWorld();
    const s1 = await server();
    const raw = await connectRawAgent(s1.url, a);
    const sealed = {
      id: 'forged-1',
      timestamp: new Date().toISOString(),
      senderId: b.id,
      recipientId: a.id,
      type: 'ChatMessage',
      payload: 'aGVhZA.a2V5.aXY.Y2lwaGVy.dGFn',
    };

    const forged = await raw.send(sealed);
    expect(forged).toMatchObject({ status: 'error', error: 'DMR_VALIDATION_SENDER_MISMATCH' });
    const unknown = await raw.send({ ...sealed, id: 'unknown-1', senderId: a.id, recipientId: 'agent-nobody' });
    expect(unknown).toMatchObject({ status: 'error', error: 'DMR_VALIDATION_UNKNOWN_RECIPIENT' });
    expect(String(unknown.reason)).toContain('agent-nobody');
    raw.close();

    const records = await peekQueue(rabbit, VALIDATION_FAILURES_QUEUE, 2);
    const byId = new Map(records.map((record) => [(JSON.parse(record.body) as { message: { id: string } }).message.id, record]));
    expect(byId.get('forged-1')?.headers['x-dmr-reason-code']).toBe('DMR_VALIDATION_SENDER_MISMATCH');
    expect(byId.get('unknown-1')?.headers['x-dmr-reason-code']).toBe('DMR_VALIDATION_UNKNOWN_RECIPIENT');
    expect(String(byId.get('unknown-1')?.headers['x-dmr-reason'])).toContain('recipientId');
  });

  it('does not deliver a payload whose signed metadata differs from the envelope; it ends in the DLQ with the reason logged', async () => {
    await freshWorld();
    const s1 = await server();
    const agentB = await agent(b, s1.url);
    const raw = await connectRawAgent(s1.url, a);
    const metadata = { id: 'tampered-1', senderId: a.id, recipientId: b.id, type: 'ChatMessage', timestamp: '2024-01-15T10:30:00.000Z' };
    const payload = await sealPayload(metadata, v1Body(b.id).payload, importPrivateKey(a.privatePem), importPublicKey(b.publicPem));
    // the relay or anyone on the path rewrites the clear timestamp after signing
    expect(await raw.send({ ...metadata, timestamp: '2030-01-01T00:00:00.000Z', payload })).toEqual({ status: 'ok' });
    raw.close();

    const [dead] = await peekQueue(rabbit, agentDeadLetterQueueName(b.id), 1);
    expect(dead?.headers['x-dmr-reason-code']).toBe('DMR_CRYPTO_METADATA_MISMATCH');
    expect(receiver.attempts).toBe(0);
    expect(s1.logs.find({ msgId: 'tampered-1', result: 'dead-lettered', code: 'DMR_CRYPTO_METADATA_MISMATCH' })).toHaveLength(1);
    expect(agentB.logs.lines.some((line) => line.msgId === 'tampered-1' && line.code === 'DMR_CRYPTO_METADATA_MISMATCH')).toBe(true);
  });

  it('keeps messages for an offline B encrypted in its queue and delivers them when B connects', async () => {
    await freshWorld();
    const s1 = await server();
    const agentA = await agent(a, s1.url);
    const bodies = [v1Body(b.id), v1Body(b.id), v1Body(b.id)];
    for (const body of bodies) expect((await postMessage(agentA.url, body)).status).toBe(202);

    const queued = await peekQueue(rabbit, agentQueueName(b.id), 3);
    expect(queued).toHaveLength(3);
    for (const [index, message] of queued.entries()) {
      const content = bodies[index]?.payload.messages[0]?.content ?? '';
      expect(message.body).not.toContain(content);
      expect(message.body).not.toContain('alice@example.com');
      expect(JSON.parse(message.body).payload.split('.')).toHaveLength(5);
    }

    await agent(b, s1.url);
    await waitUntil(() => receiver.received.length === 3, 10_000, 'three deliveries after B connected');
    expect(receiver.received.map((message) => message.id).sort()).toEqual(bodies.map((body) => body.id).sort());
  });

  it("retries while B's endpoint fails and delivers once it recovers", async () => {
    await freshWorld();
    receiver.respondWith((attempt) => (attempt <= 3 ? 500 : 200));
    const s1 = await server();
    const agentA = await agent(a, s1.url);
    await agent(b, s1.url);
    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    await waitUntil(() => receiver.received.length === 1, 15_000, 'delivery after recovery');
    expect(receiver.attempts).toBe(4);
    expect(receiver.countOf(body.id)).toBe(1);
    // every attempt, across the server's redeliveries, names the message the same way so an endpoint can deduplicate
    expect(receiver.idempotencyKeys).toEqual(Array(4).fill(`${a.id}:${body.id}`));
  });

  it("dead-letters after the delivery limit when B's endpoint never recovers, with the reason", async () => {
    await freshWorld();
    receiver.respondWith(() => 503);
    const s1 = await server();
    const agentA = await agent(a, s1.url);
    await agent(b, s1.url);
    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);

    const [dead] = await peekQueue(rabbit, agentDeadLetterQueueName(b.id), 1, 20_000);
    expect(dead?.headers['x-dmr-reason-code']).toBe('DMR_DELIVERY_ENDPOINT_FAILED');
    expect(String(dead?.headers['x-dmr-reason'])).toMatch(/delivery limit 3 reached/);
    // 3 deliveries (the limit) × 2 endpoint attempts each
    expect(receiver.attempts).toBe(6);
    expect(receiver.received).toHaveLength(0);
    expect(s1.logs.find({ msgId: body.id, result: 'dead-lettered' })).toHaveLength(1);
  });

  it('delivers the same id once even when it is sent twice', async () => {
    await freshWorld();
    const s1 = await server();
    const agentA = await agent(a, s1.url);
    await agent(b, s1.url);
    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    const marker = v1Body(b.id);
    expect((await postMessage(agentA.url, marker)).status).toBe(202);
    await waitUntil(() => receiver.countOf(marker.id) === 1, 10_000, 'marker delivered after the duplicate');
    expect(receiver.countOf(body.id)).toBe(1);
  });

  it('disconnects an agent removed from the registry at the next sync, and keeps the last good registry when the file breaks', async () => {
    await freshWorld();
    const s1 = await server();
    const agentA = await agent(a, s1.url);
    await agent(b, s1.url);

    registry.writeRaw('{ this is not json');
    await waitUntil(
      () => s1.logs.lines.some((line) => line.component === 'registry' && /refused|failed/.test(String(line.msg))),
      5000,
      'broken registry refused',
    );
    expect((await postMessage(agentA.url, v1Body(b.id))).status).toBe(202);
    expect(s1.server.gateway.connectedAgentIds().sort()).toEqual([a.id, b.id].sort());

    registry.write([a]);
    await waitUntil(() => !s1.server.gateway.connectedAgentIds().includes(b.id), 5000, 'B disconnected after removal');
    expect(s1.server.gateway.connectedAgentIds()).toEqual([a.id]);
    const afterRemoval = await postMessage(agentA.url, v1Body(b.id));
    expect(afterRemoval).toMatchObject({ status: 400, body: { code: 'DMR_VALIDATION_UNKNOWN_RECIPIENT' } });
  });

  it('refuses handshakes with a forged or unknown-agent token', async () => {
    await freshWorld();
    const s1 = await server();
    const stranger = await makeIdentity('ec');
    await expect(connectRawAgent(s1.url, stranger)).rejects.toThrow(/not in the registry/);
    const forger = { ...a, privatePem: (await makeIdentity('ec')).privatePem };
    await expect(connectRawAgent(s1.url, forger)).rejects.toThrow(/signature|verification/i);
    // the control: a's own token, presented as it is, is let in (the refusals above are of the tokens, not of everyone)
    const token = await createAgentToken(a.id, importPrivateKey(a.privatePem));
    expect(token.split('.')).toHaveLength(3);
    const genuine = await connectRawAgentWithToken(s1.url, a, token);
    try {
      await waitUntil(() => s1.server.gateway.connectedAgentIds().includes(a.id), 5000, 'a connected with its token');
    } finally {
      genuine.close();
    }
    // the same token with one signature character changed is refused
    const tampered = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;
    await expect(connectRawAgentWithToken(s1.url, a, tampered)).rejects.toThrow(/signature|verification/i);
  });
});
