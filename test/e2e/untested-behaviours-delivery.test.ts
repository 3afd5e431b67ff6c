// Issue 21, "behaviours with no test" (server delivery side), on a real dmr-server, a real RabbitMQ vhost and raw
// Socket.IO agents over mutual TLS: the ack timeout and the dead-letter after the message TTL; one agent with two
// live sockets on one instance; garbage in an agent queue; the requeue when the DLQ publish fails.
import { randomUUID } from 'node:crypto';
import { agentDeadLetterQueueName, agentQueueName, DEAD_LETTER_EXCHANGE, EVENTS, REASON_CODE_HEADER, REASON_HEADER } from '@dmr/shared';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  RegistryFile,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { peekQueue, queueDepth, type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent, type RawAgent } from '../support/raw-agent.js';

const ACK_TIMEOUT_MS = 400;
const TTL_MS = 5000;
const DELIVERY_LIMIT = 2;

type Delivery = { message: Record<string, unknown>; ack: (reply: unknown) => void; at: number };

/** A raw agent that records every delivery and answers them by `policy` ('ok' acks, 'silent' never answers). */
async function listeningAgent(url: string, identity: Identity, policy: () => 'ok' | 'silent'): Promise<RawAgent & { got: Delivery[] }> {
  const raw = await connectRawAgent(url, identity);
  const got: Delivery[] = [];
  raw.socket.on(EVENTS.messageFromServer, (message: Record<string, unknown>, ack: (reply: unknown) => void) => {
    got.push({ message, ack, at: Date.now() });
    if (policy() === 'ok') ack({ status: 'ok' });
  });
  return Object.assign(raw, { got });
}

/** `promise`, or a rejection naming `label` after `ms` (so a missing event fails the test with a reason, not a timeout). */
function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms: ${label}`)), ms).unref()),
  ]);
}

/** A wire-shaped body (the server checks only the shape before emitting; raw agents do not decrypt). */
function wireBody(sender: Identity, recipient: Identity): Record<string, string> {
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    senderId: sender.id,
    recipientId: recipient.id,
    type: 'ChatMessage',
    payload: 'opaque-test-payload',
  };
}

describe('server delivery behaviours on a real server and broker', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let server: RunningServer;
  let connection: Awaited<ReturnType<typeof amqp.connect>>;
  let a: Identity;
  const ids: Identity[] = [];
  const closers: Array<() => unknown> = [];

  /** Publishes `content` straight into `dmr.agent.<recipient>`, as something other than a DMR server might. */
  async function publishInto(recipient: Identity, content: Buffer | string): Promise<void> {
    const channel = await connection.createConfirmChannel();
    try {
      const buffer = typeof content === 'string' ? Buffer.from(content) : content;
      channel.sendToQueue(agentQueueName(recipient.id), buffer, {
        persistent: true,
        messageId: randomUUID(),
        timestamp: Math.floor(Date.now() / 1000),
      });
      await channel.waitForConfirms();
    } finally {
      await channel.close();
    }
  }

  async function dlqDepth(recipient: Identity): Promise<number> {
    return queueDepth(rabbit, agentDeadLetterQueueName(recipient.id));
  }

  beforeAll(async () => {
    a = await makeIdentity('ec');
    for (let i = 0; i < 5; i++) ids.push(await makeIdentity('ec'));
    rabbit = await useRabbitVhost();
    registry = new RegistryFile([a, ...ids]);
    server = await startServer(
      serverEnv(rabbit, registry.url, {
        DMR_DELIVERY_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
        RABBITMQ_DEFAULT_TTL: String(TTL_MS),
        RABBITMQ_DELIVERY_LIMIT: String(DELIVERY_LIMIT),
        DMR_REDELIVERY_DELAY_MS: '50',
        DMR_REDELIVERY_DELAY_MAX_MS: '100',
      }),
    );
    connection = await amqp.connect(rabbit.amqpUrl);
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await connection?.close().catch(() => undefined);
    await server?.server.stop();
    registry?.remove();
    await rabbit?.cleanup();
  });

  it('emits an unacknowledged delivery again after DMR_DELIVERY_ACK_TIMEOUT_MS without spending the delivery limit, and dead-letters it with DMR_ROUTE_ACK_TIMEOUT once older than the TTL', async () => {
    const b = ids[0] as Identity;
    const silentB = await listeningAgent(server.url, b, () => 'silent');
    closers.push(() => silentB.close());
    const agentA = await startAgent(a, server.url, 'http://127.0.0.1:9/unused');
    closers.push(() => agentA.agent.stop());

    const body = v1Body(b.id);
    const postedAt = Date.now();
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    const isDeadLettered = () => server.logs.find({ stage: 'delivery', msgId: body.id, result: 'dead-lettered' }).length > 0;
    await waitUntil(isDeadLettered, TTL_MS + 10_000, 'the unanswered delivery is dead-lettered');
    const deadLetteredAt = Date.now();

    // emitted again and again while unanswered: far more emits than the delivery limit allows attempts
    const emits = silentB.got.filter((d) => d.message.id === body.id);
    expect(emits.length).toBeGreaterThan(DELIVERY_LIMIT + 1);
    expect(emits.every((d) => JSON.stringify(d.message) === JSON.stringify(emits[0]?.message))).toBe(true);
    // consecutive emits are one ack timeout (+ a short redelivery pause) apart, not sooner
    for (let i = 1; i < emits.length; i++) {
      expect((emits[i] as Delivery).at - (emits[i - 1] as Delivery).at).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS - 50);
    }
    const retries = server.logs.find({ stage: 'delivery', msgId: body.id, result: 'retrying' });
    expect(retries.length).toBeGreaterThanOrEqual(DELIVERY_LIMIT);
    expect(retries.every((line) => line.code === 'DMR_ROUTE_ACK_TIMEOUT' && line.deliveryCount === 0)).toBe(true);
    // dead-lettered at the TTL, not at the delivery limit
    expect(deadLetteredAt - postedAt).toBeGreaterThanOrEqual(TTL_MS - 1000);

    const [dead] = await peekQueue(rabbit, agentDeadLetterQueueName(b.id), 1);
    expect((JSON.parse(dead?.body ?? '{}') as { id?: string }).id).toBe(body.id);
    expect(dead?.headers[REASON_CODE_HEADER]).toBe('DMR_ROUTE_ACK_TIMEOUT');
    expect(String(dead?.headers[REASON_HEADER])).toMatch(/within the message TTL/);
    expect(await dlqDepth(b)).toBe(1);
    expect(await queueDepth(rabbit, agentQueueName(b.id))).toBe(0);
    await agentA.agent.stop();
    silentB.close();
  });

  it('with two live sockets of one agent on one instance, the newer wins: the older is disconnected and every message reaches the newer exactly once', async () => {
    const b = ids[1] as Identity;
    const older = await listeningAgent(server.url, b, () => 'silent');
    closers.push(() => older.close());
    const olderGone = new Promise<string>((resolve) => older.socket.once('disconnect', (reason) => resolve(reason)));
    await waitUntil(() => server.server.gateway.connectedAgentIds().includes(b.id), 5000, 'older socket connected');

    // the older socket holds (never acks) the first messages
    const bodies = Array.from({ length: 6 }, () => wireBody(a, b));
    for (const body of bodies.slice(0, 3)) await publishInto(b, JSON.stringify(body));
    await waitUntil(() => new Set(older.got.map((d) => d.message.id)).size === 3, 5000, 'the older socket holds 3 deliveries');

    const newer = await listeningAgent(server.url, b, () => 'ok');
    closers.push(() => newer.close());
    expect(await within(olderGone, 10_000, 'the server disconnects the older socket')).toBe('io server disconnect');
    const heldByOlder = older.got.length;
    for (const body of bodies.slice(3)) await publishInto(b, JSON.stringify(body));

    await waitUntil(() => bodies.every((body) => newer.got.some((d) => d.message.id === body.id)), 10_000, 'all 6 reach the newer socket');
    // settle: nothing more arrives (an ack timeout and more)
    await new Promise((resolve) => setTimeout(resolve, ACK_TIMEOUT_MS * 3));
    expect(newer.got.map((d) => d.message.id)).toEqual(bodies.map((body) => body.id));
    expect(older.got.length).toBe(heldByOlder);
    expect(newer.socket.connected).toBe(true);
    expect(server.server.gateway.connectedAgentIds().filter((id) => id === b.id)).toEqual([b.id]);
    expect(await queueDepth(rabbit, agentQueueName(b.id))).toBe(0);
    expect(await dlqDepth(b)).toBe(0);
    expect(server.logs.find({ msg: 'agent reconnected while an older socket was open; closing the older one', agentId: b.id }).length).toBe(
      1,
    );
    newer.close();
  });

  it('dead-letters garbage found in an agent queue with DMR_DELIVERY_INVALID_MESSAGE and keeps delivering the messages behind it', async () => {
    const b = ids[2] as Identity;
    const agentB = await listeningAgent(server.url, b, () => 'ok');
    closers.push(() => agentB.close());
    await waitUntil(() => server.server.gateway.connectedAgentIds().includes(b.id), 5000, 'B connected');

    const garbage = ['not json at all', JSON.stringify({ id: 'x', hello: 'wire?' }), JSON.stringify([1, 2, 3])];
    const before = wireBody(a, b);
    const after = wireBody(a, b);
    await publishInto(b, JSON.stringify(before));
    for (const text of garbage) await publishInto(b, text);
    await publishInto(b, JSON.stringify(after));

    await waitUntil(() => agentB.got.some((d) => d.message.id === after.id), 10_000, 'the message behind the garbage is delivered');
    const dead = await peekQueue(rabbit, agentDeadLetterQueueName(b.id), garbage.length);
    expect(dead.map((stored) => stored.body).sort()).toEqual([...garbage].sort());
    expect(dead.every((stored) => stored.headers[REASON_CODE_HEADER] === 'DMR_DELIVERY_INVALID_MESSAGE')).toBe(true);
    expect(agentB.got.map((d) => d.message.id)).toEqual([before.id, after.id]);
    expect(await queueDepth(rabbit, agentQueueName(b.id))).toBe(0);
    expect(await dlqDepth(b)).toBe(garbage.length);
    agentB.close();
  });

  it('keeps garbage whose dead-letter publish fails (DLQ gone) without returning it to the queue, and dead-letters it with its reason once the DLQ is back', async () => {
    const b = ids[3] as Identity;
    const setup = await connection.createChannel();
    await setup.deleteQueue(agentDeadLetterQueueName(b.id));
    await setup.close();
    const agentB = await listeningAgent(server.url, b, () => 'ok');
    closers.push(() => agentB.close());
    await waitUntil(() => server.server.gateway.connectedAgentIds().includes(b.id), 5000, 'B connected');

    const garbage = `garbage-${randomUUID()}`;
    await publishInto(b, garbage);
    const failedPublishes = () =>
      server.logs.lines.filter((line) => line.agentId === b.id && String(line.msg).startsWith('could not')).length;
    await waitUntil(() => failedPublishes() >= 2, 10_000, 'the dead-letter publish fails while the DLQ is gone');
    // longer than RabbitMQ needs to hand a message it got back RABBITMQ_RETURN_LIMIT (50) times to its own dead-lettering
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(server.logs.lines.filter((line) => line.stage === 'delivery' && line.recipientId === b.id)).toEqual([]);

    // the DLQ comes back (as the server declares it)
    const restore = await connection.createChannel();
    await restore.assertQueue(agentDeadLetterQueueName(b.id), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await restore.bindQueue(agentDeadLetterQueueName(b.id), DEAD_LETTER_EXCHANGE, b.id);
    await restore.close();
    const [dead] = await peekQueue(rabbit, agentDeadLetterQueueName(b.id), 1, 15_000);
    expect(dead?.body).toBe(garbage);
    expect(dead?.headers[REASON_CODE_HEADER]).toBe('DMR_DELIVERY_INVALID_MESSAGE');
    // held by the server all along: never given back to the queue (a requeue would have counted it)
    expect(Number(dead?.headers['x-delivery-count'] ?? 0)).toBe(0);
    const outcomes = server.logs.lines.filter((line) => line.stage === 'delivery' && line.recipientId === b.id);
    expect(outcomes.map((line) => [line.result, line.code])).toEqual([['dead-lettered', 'DMR_DELIVERY_INVALID_MESSAGE']]);
    expect(await dlqDepth(b)).toBe(1);
    expect(await queueDepth(rabbit, agentQueueName(b.id))).toBe(0);
    // a later message still flows
    const later = wireBody(a, b);
    await publishInto(b, JSON.stringify(later));
    await waitUntil(() => agentB.got.some((d) => d.message.id === later.id), 10_000, 'a later message is delivered');
    agentB.close();
  });

  it('gives the held garbage back to the queue when the session ends while its dead-letter publish fails; dead-letters it after the reconnect', async () => {
    const b = ids[4] as Identity;
    const setup = await connection.createChannel();
    await setup.deleteQueue(agentDeadLetterQueueName(b.id));
    await setup.close();
    const first = await listeningAgent(server.url, b, () => 'ok');
    closers.push(() => first.close());
    await waitUntil(() => server.server.gateway.connectedAgentIds().includes(b.id), 5000, 'B connected');
    const garbage = `garbage-${randomUUID()}`;
    await publishInto(b, garbage);
    const failures = () => server.logs.lines.filter((line) => line.agentId === b.id && String(line.msg).startsWith('could not')).length;
    await waitUntil(() => failures() >= 2, 10_000, 'the dead-letter publish fails while the DLQ is gone');

    first.close();
    await waitUntil(
      () => server.logs.lines.some((line) => line.stage === 'delivery' && line.recipientId === b.id && line.result === 'requeued'),
      5000,
      'the held message is given back when the session ends',
    );
    const stalled = failures();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // no publish attempts for a session that is gone
    expect(failures()).toBe(stalled);
    expect(await queueDepth(rabbit, agentQueueName(b.id))).toBe(1);

    const restore = await connection.createChannel();
    await restore.assertQueue(agentDeadLetterQueueName(b.id), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await restore.bindQueue(agentDeadLetterQueueName(b.id), DEAD_LETTER_EXCHANGE, b.id);
    await restore.close();
    const second = await listeningAgent(server.url, b, () => 'ok');
    closers.push(() => second.close());
    const [dead] = await peekQueue(rabbit, agentDeadLetterQueueName(b.id), 1, 10_000);
    expect(dead?.body).toBe(garbage);
    expect(dead?.headers[REASON_CODE_HEADER]).toBe('DMR_DELIVERY_INVALID_MESSAGE');
    expect(await dlqDepth(b)).toBe(1);
    expect(await queueDepth(rabbit, agentQueueName(b.id))).toBe(0);
    expect(first.got).toEqual([]);
    expect(second.got).toEqual([]);
    second.close();
  });
});
