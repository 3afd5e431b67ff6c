// Issue 15, finding 10: when RabbitMQ cancels the consumer of a connected agent (here: its queue is deleted), the
// session must not stay "connected" and deaf. The server ends it, the agent reconnects, and once the queue is back
// (as an operator or the server's set-up restores it) the agent receives messages again.
import { AGENT_QUEUE_ARGUMENTS, agentQueueName, MESSAGES_EXCHANGE } from '@dmr/shared';
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
import { useRabbitVhost } from '../support/rabbit.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('consumer cancelled by RabbitMQ', () => {
  it('ends the session, and the reconnected agent receives again', async () => {
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
    const agentB = await startAgent(b, server.url, receiver.url);
    cleanups.push(
      () => agentA.agent.stop(),
      () => agentB.agent.stop(),
    );
    const first = v1Body(b.id);
    expect((await postMessage(agentA.url, first)).status).toBe(202);
    await waitUntil(() => receiver.countOf(first.id) === 1, 10_000, 'delivery before the cancel');

    const connection = await amqp.connect(rabbit.amqpUrl);
    cleanups.push(() => connection.close());
    const admin = await connection.createChannel();
    await admin.deleteQueue(agentQueueName(b.id));
    await waitUntil(
      () => agentB.logs.find({ msg: 'disconnected from the DMR server' }).length > 0,
      10_000,
      'agent B disconnected after its consumer was cancelled',
    );
    expect(server.logs.find({ msg: 'consumer lost; ending the session so the agent reconnects', agentId: b.id })).toHaveLength(1);

    await admin.assertQueue(agentQueueName(b.id), { durable: true, arguments: AGENT_QUEUE_ARGUMENTS });
    await admin.bindQueue(agentQueueName(b.id), MESSAGES_EXCHANGE, b.id);
    const connectedBefore = server.logs.find({ msg: 'agent connected', agentId: b.id }).length;
    await waitUntil(
      () => server.logs.find({ msg: 'agent connected', agentId: b.id }).length > connectedBefore,
      15_000,
      'agent B consuming again',
    );
    const second = v1Body(b.id);
    expect((await postMessage(agentA.url, second)).status).toBe(202);
    await waitUntil(() => receiver.countOf(second.id) === 1, 10_000, 'delivery through the fresh consumer');
  });
});
