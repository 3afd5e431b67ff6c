/**
 * Two real agents through the socket.io test peer (standing in for dmr-server, which would publish to
 * RabbitMQ before acking): service → agent A → peer → agent B → B's endpoint, for both key kinds.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, outcomeLines, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

describe.each(['rsa', 'ec'] as const)('relay between two agents with %s keys', (kind) => {
  const cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('delivers a POSTed message once, as the exact original body plus senderId, to the other agent endpoint', async () => {
    const keysA = generateKeys(kind);
    const keysB = generateKeys(kind);
    const idA = `agent-${randomUUID()}`;
    const idB = `agent-${randomUUID()}`;
    const receiverA = await Receiver.start();
    const receiverB = await Receiver.start();
    const server = await TestDmrServer.start([
      { id: idA, publicPem: keysA.publicPem },
      { id: idB, publicPem: keysB.publicPem },
    ]);
    const deliveryAcks: unknown[] = [];
    server.ackPolicy = (message) => {
      // Ack first (the real server acks after the RabbitMQ confirm), then deliver like a queue consumer.
      setImmediate(() => {
        server.deliver(message.recipientId, message).then(
          (ack) => deliveryAcks.push(ack),
          (error: unknown) => deliveryAcks.push(error),
        );
      });
      return { status: 'ok' };
    };
    const agentA: AgentFixture = makeAgent({ id: idA, keys: keysA, serverUrl: server.url, endpointUrl: receiverA.url });
    const agentB: AgentFixture = makeAgent({ id: idB, keys: keysB, serverUrl: server.url, endpointUrl: receiverB.url });
    cleanup.push(
      () => receiverA.close(),
      () => receiverB.close(),
      () => server.close(),
      () => agentA.agent.stop(),
      () => agentB.agent.stop(),
    );
    await Promise.all([agentA.agent.start(), agentB.agent.start()]);
    await Promise.all([waitUntilReady(agentA.agent), waitUntilReady(agentB.agent)]);

    const body = v1Message(idB);
    const response = await agentA.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: body });
    expect(response.statusCode).toBe(202);
    await waitFor('delivery ack', () => deliveryAcks.length === 1);

    expect(deliveryAcks).toEqual([{ status: 'ok' }]);
    expect(receiverB.requests.map((request) => request.body)).toEqual([{ ...body, senderId: idA }]);
    expect(receiverA.requests).toHaveLength(0);
    expect(outcomeLines(agentA)).toMatchObject([{ msgId: body.id, direction: 'outbound', result: 'accepted' }]);
    expect(outcomeLines(agentB)).toMatchObject([{ msgId: body.id, direction: 'inbound', result: 'delivered', senderId: idA }]);
  });
});
