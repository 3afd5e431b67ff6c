// Issue 15, finding 17: a message the recipient agent holds in its chat's lane (behind an earlier message of the
// same chat that keeps failing) past the message TTL must end in exactly one place: delivered or in the DLQ, never
// both. Before the fix the server dead-lettered it at the TTL and the agent posted it once the endpoint recovered.
import { agentDeadLetterQueueName, EVENTS, REASON_CODE_HEADER } from '@dmr/shared';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { peekQueue, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent } from '../support/raw-agent.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a message held in its chat lane past the TTL', () => {
  it('ends in exactly one place', async () => {
    const rabbit = await useRabbitVhost();
    cleanups.push(() => rabbit.cleanup());
    const a = await makeIdentity('ec');
    const b = await makeIdentity('ec');
    const registry = new RegistryFile([a, b]);
    const receiver = await new Receiver().start();
    cleanups.push(async () => {
      await receiver.close();
      registry.remove();
    });
    let isEndpointDown = true;
    receiver.respondWith(() => (isEndpointDown ? 503 : 200));
    const server = await startServer(
      serverEnv(rabbit, registry.url, {
        RABBITMQ_DEFAULT_TTL: '3000',
        RABBITMQ_DELIVERY_LIMIT: '1000',
        DMR_DELIVERY_ACK_TIMEOUT_MS: '1500',
        DMR_REDELIVERY_DELAY_MS: '100',
        DMR_REDELIVERY_DELAY_MAX_MS: '300',
      }),
    );
    cleanups.push(() => server.server.stop());
    const agentA = await startAgent(a, server.url, receiver.url);
    const agentB = await startAgent(b, server.url, receiver.url, {
      OUTGOING_MESSAGE_RETRIES: '1',
      OUTGOING_MESSAGE_TIMEOUT_MS: '500',
      DMR_CHAT_ORDER_HOLD_MS: '20000',
    });
    cleanups.push(
      () => agentA.agent.stop(),
      () => agentB.agent.stop(),
    );

    // two messages of one chat: the first keeps failing at the endpoint, the second waits behind it in B's lane
    const first = v1Body(b.id);
    const second = { ...v1Body(b.id), payload: first.payload };
    expect((await postMessage(agentA.url, first)).status).toBe(202);
    expect((await postMessage(agentA.url, second)).status).toBe(202);
    await waitUntil(() => receiver.attempts >= 2, 10_000, 'the first message fails at the endpoint');
    await waitUntil(
      () => server.logs.find({ stage: 'delivery', msgId: second.id, result: 'dead-lettered' }).length > 0,
      20_000,
      'the server gives up on the held message after its TTL',
    );

    isEndpointDown = false;
    const settled = (id: string) =>
      agentB.logs.find({ msgId: id, direction: 'inbound' }).some((line) => line.result === 'delivered' || line.result === 'refused');
    await waitUntil(() => settled(first.id) && settled(second.id), 10_000, 'agent B settles both messages');
    await waitUntil(
      () =>
        [first.id, second.id].every((id) => server.logs.find({ stage: 'delivery', msgId: id }).some((line) => line.result !== 'retrying')),
      10_000,
      'the server settles both messages',
    );

    const connection = await amqp.connect(rabbit.amqpUrl);
    cleanups.push(() => connection.close());
    const dlq = agentDeadLetterQueueName(b.id);
    const { messageCount } = await (await connection.createChannel()).checkQueue(dlq);
    const deadLetters = messageCount > 0 ? await peekQueue(rabbit, dlq, messageCount) : [];
    const deadLettered = deadLetters.map((stored) => (JSON.parse(stored.body) as { id: string }).id);
    for (const id of [first.id, second.id]) {
      const places = { delivered: receiver.countOf(id), deadLettered: deadLettered.filter((dead) => dead === id).length };
      expect(places.delivered + places.deadLettered, `${id === first.id ? 'first' : 'second'}: ${JSON.stringify(places)}`).toBe(1);
    }
    // the endpoint was down for longer than the TTL: the agent let the first message expire instead of posting it late
    const codes = deadLetters.map((stored) => stored.headers[REASON_CODE_HEADER]);
    expect(codes).toContain('DMR_DELIVERY_EXPIRED');
  });

  it('a seed 003 agent, which announces no deadline support, gets the wire message unchanged', async () => {
    const rabbit = await useRabbitVhost();
    cleanups.push(() => rabbit.cleanup());
    const a = await makeIdentity('ec');
    const b = await makeIdentity('ec');
    const registry = new RegistryFile([a, b]);
    const receiver = await new Receiver().start();
    cleanups.push(async () => {
      await receiver.close();
      registry.remove();
    });
    const server = await startServer(serverEnv(rabbit, registry.url));
    cleanups.push(() => server.server.stop());
    const agentA = await startAgent(a, server.url, receiver.url);
    cleanups.push(() => agentA.agent.stop());
    const legacyB = await connectRawAgent(server.url, b);
    cleanups.push(async () => legacyB.close());
    const got: Array<Record<string, unknown>> = [];
    legacyB.socket.on(EVENTS.messageFromServer, (message: Record<string, unknown>, ack: (reply: unknown) => void) => {
      got.push(message);
      ack({ status: 'ok' });
    });

    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    await waitUntil(() => got.length === 1, 10_000, 'delivery to the seed 003 agent');
    expect(Object.keys(got[0] ?? {}).sort()).toEqual(['id', 'payload', 'recipientId', 'senderId', 'timestamp', 'type']);
  });
});
