// Issue 15 finding 12: one agent's queue that RabbitMQ refuses (an existing classic `dmr.agent.<id>`: queue.declare
// fails with PRECONDITION_FAILED and closes the channel) must cost only that agent. Before the fix the connect set-up
// failed on it at every reconnect, so the server never became ready for anyone.
import { agentQueueName, MESSAGES_EXCHANGE } from '@dmr/shared';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  makeIdentity,
  postMessage,
  probe,
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
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('an agent queue RabbitMQ refuses to declare', () => {
  it('keeps relaying for the other agents, reports and refuses the bad one, and declares it once the operator removed the conflict', async () => {
    const rabbit = await useRabbitVhost();
    cleanups.push(() => rabbit.cleanup());
    const [a, b, bad] = await Promise.all([makeIdentity('ec'), makeIdentity('ec'), makeIdentity('ec')]);
    // what an operator's earlier experiment leaves behind: a classic queue under DMR's name, bound like DMR's
    const connection = await amqp.connect(rabbit.amqpUrl);
    const channel = await connection.createChannel();
    await channel.assertExchange(MESSAGES_EXCHANGE, 'direct', { durable: true });
    await channel.assertQueue(agentQueueName(bad.id), { durable: true });
    await channel.bindQueue(agentQueueName(bad.id), MESSAGES_EXCHANGE, bad.id);
    await connection.close();

    const registry = new RegistryFile([a, bad, b]);
    const receiver = await new Receiver().start();
    cleanups.push(async () => {
      await receiver.close();
      registry.remove();
    });
    const running = await startServer(serverEnv(rabbit, registry.url));
    cleanups.push(() => running.server.stop());
    const agentA = await startAgent(a, running.url, receiver.url);
    cleanups.push(() => agentA.agent.stop());
    const agentB = await startAgent(b, running.url, receiver.url);
    cleanups.push(() => agentB.agent.stop());

    const toB = v1Body(b.id);
    expect((await postMessage(agentA.url, toB)).status).toBe(202);
    await waitUntil(() => receiver.countOf(toB.id) === 1, 10_000, 'delivery to the good agent');

    // reported: readiness detail, metric, log line with the code
    const ready = await probe(`${running.url}/v1/ready`);
    expect(ready.status).toBe(200);
    const checks = (JSON.parse(ready.text) as { checks: Record<string, string> }).checks;
    expect(checks.queues).toBe(`unprepared: ${bad.id}`);
    const metrics = (await probe(`${running.url}/metrics`)).text;
    expect(metrics).toMatch(/^dmr_broker_unprepared_agents 1$/m);
    expect(metrics).toMatch(/^dmr_broker_queue_prepare_failures_total\{code="DMR_ROUTE_QUEUE_UNAVAILABLE"\} [1-9]/m);
    const logged = running.logs.find({ code: 'DMR_ROUTE_QUEUE_UNAVAILABLE', agentId: bad.id });
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(String(logged[0]?.reason)).toMatch(/PRECONDITION_FAILED/);

    // refused with a clear, transient code: nothing goes into the queue DMR did not set up
    const toBad = await postMessage(agentA.url, v1Body(bad.id));
    expect(toBad.status).toBe(502);
    expect(toBad.body).toMatchObject({ serverCode: 'DMR_ROUTE_QUEUE_UNAVAILABLE' });

    // the operator deletes the conflicting queue; the server declares DMR's own without a restart
    const authorization = `Basic ${Buffer.from(`${rabbit.user}:${rabbit.password}`).toString('base64')}`;
    const queueUrl = `${rabbit.managementApiBase}/queues/${encodeURIComponent(rabbit.vhost)}/${encodeURIComponent(agentQueueName(bad.id))}`;
    expect((await fetch(queueUrl, { method: 'DELETE', headers: { authorization } })).status).toBe(204);
    await waitUntil(() => running.server.readiness().checks.queues === 'ok', 15_000, 'the bad agent re-declared');
    const queue = (await (await fetch(queueUrl, { headers: { authorization } })).json()) as { arguments: Record<string, unknown> };
    expect(queue.arguments).toMatchObject({ 'x-queue-type': 'quorum' });
    expect((await probe(`${running.url}/metrics`)).text).toMatch(/^dmr_broker_unprepared_agents 0$/m);

    const late = v1Body(bad.id);
    expect((await postMessage(agentA.url, late)).status).toBe(202);
    const agentBad = await startAgent(bad, running.url, receiver.url);
    cleanups.push(() => agentBad.agent.stop());
    await waitUntil(() => receiver.countOf(late.id) === 1, 10_000, 'delivery to the re-declared agent');
  });
});
