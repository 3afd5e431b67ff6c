/**
 * Two real agents through a REAL dmr-server (built in-process with buildServer from @dmr/server, mutual TLS) and a
 * real RabbitMQ vhost of this test's own: service → agent A → server → B's queue → server → agent B → B's
 * endpoint, for both key kinds. No stand-in anywhere on the path (issue 21: end-to-end claims on real parts).
 */
import { agentDeadLetterQueueName, agentQueueName } from '@dmr/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  serverEnv,
  startAgent,
  startServer,
  waitUntil,
} from '../../../../test/support/dmr-system.js';
import { queueDepth, type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { v1Message } from '../helpers/messages.js';

/** The agent's outcome log lines (`msg: 'message outcome'`). */
function outcomes(agent: RunningAgent): Array<Record<string, unknown>> {
  return agent.logs.lines.filter((line) => line.msg === 'message outcome');
}

describe.each(['rsa', 'ec'] as const)('relay between two agents with %s keys through the real dmr-server and RabbitMQ', (kind) => {
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

  it('delivers a POSTed message once, as the exact original body plus senderId, to the other agent endpoint', async () => {
    const a = await makeIdentity(kind);
    const b = await makeIdentity(kind);
    const registry = new RegistryFile([a, b]);
    const receiverA = await new Receiver().start();
    const receiverB = await new Receiver().start();
    cleanup.push(
      () => registry.remove(),
      () => receiverA.close(),
      () => receiverB.close(),
    );
    const server = await startServer(serverEnv(rabbit, registry.url));
    let serverStopped = false;
    cleanup.push(() => (serverStopped ? undefined : server.server.stop()));
    const agentA = await startAgent(a, server.url, receiverA.url);
    cleanup.push(() => agentA.agent.stop());
    const agentB = await startAgent(b, server.url, receiverB.url);
    let bStopped = false;
    cleanup.push(() => (bStopped ? undefined : agentB.agent.stop()));
    expect(server.server.gateway.connectedAgentIds().sort()).toEqual([a.id, b.id].sort());

    const body = v1Message(b.id);
    const response = await postMessage(agentA.url, body);
    expect(response).toEqual({ status: 202, body: { id: body.id, status: 'accepted' } });
    await waitUntil(() => outcomes(agentB).some((line) => line.msgId === body.id), 10_000, "B's outcome for the message");

    expect(receiverB.received).toEqual([{ ...body, senderId: a.id }]);
    expect(receiverB.attempts).toBe(1);
    expect(receiverA.attempts).toBe(0);
    expect(outcomes(agentA)).toMatchObject([{ msgId: body.id, direction: 'outbound', result: 'accepted' }]);
    expect(outcomes(agentB)).toMatchObject([{ msgId: body.id, direction: 'inbound', result: 'delivered', senderId: a.id }]);
    // B acked it ok: once the server has let go of B (its consumer channel closed, so anything unacked would be
    // requeued), the message is neither back in B's queue nor in B's dead-letter queue
    await waitUntil(
      () => server.logs.find({ stage: 'delivery', result: 'delivered', msgId: body.id }).length === 1,
      10_000,
      'server logged the delivery',
    );
    await agentB.agent.stop();
    bStopped = true;
    await server.server.stop();
    serverStopped = true;
    expect(await queueDepth(rabbit, agentQueueName(b.id)), "nothing left in B's queue").toBe(0);
    expect(await queueDepth(rabbit, agentDeadLetterQueueName(b.id)), "nothing in B's DLQ").toBe(0);
    expect(receiverB.attempts, 'delivered once').toBe(1);
  });
});
