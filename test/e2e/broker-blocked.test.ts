// Issue 15 finding 14: while RabbitMQ blocks publishing (a resource alarm: `connection.blocked`), the server refuses
// publishes at once with DMR_ROUTE_BROKER_BLOCKED and reports not-ready until `connection.unblocked`. Before the fix
// the block was only logged: readiness stayed "ready" and each message waited out the confirm timeout.
// A private node, because the alarm blocks every publisher on the node.
import { type RabbitNode, startRabbitNode } from '@dmr/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('RabbitMQ resource alarm', () => {
  let node: RabbitNode;

  beforeAll(async () => {
    node = await startRabbitNode({ management: false });
  });

  afterAll(async () => {
    await node?.stop();
  });

  it('refuses publishes at once with DMR_ROUTE_BROKER_BLOCKED, is not ready while blocked, and recovers on unblock', async () => {
    const a = await makeIdentity('ec');
    const b = await makeIdentity('ec');
    const registry = new RegistryFile([a, b]);
    const receiver = await new Receiver().start();
    cleanups.push(async () => {
      await receiver.close();
      registry.remove();
    });
    const rabbit = { amqpPort: node.amqpPort, managementBase: 'http://127.0.0.1:1', user: node.user, password: node.password, vhost: '/' };
    // a confirm timeout far beyond the agent's delivery timeout: a publish held by the alarm would end as DMR_LINK_TIMEOUT
    const running = await startServer(
      serverEnv(rabbit, registry.url, { RABBITMQ_APPLY_POLICIES: 'false', RABBITMQ_CONFIRM_TIMEOUT_MS: '60000' }),
    );
    cleanups.push(() => running.server.stop());
    const agentA = await startAgent(a, running.url, receiver.url);
    cleanups.push(() => agentA.agent.stop());
    const agentB = await startAgent(b, running.url, receiver.url);
    cleanups.push(() => agentB.agent.stop());
    const before = v1Body(b.id);
    expect((await postMessage(agentA.url, before)).status).toBe(202);
    await waitUntil(() => receiver.countOf(before.id) === 1, 10_000, 'delivery before the alarm');

    await node.ctl(['set_vm_memory_high_watermark', 'absolute', '1']);
    cleanups.push(async () => {
      await node.ctl(['set_vm_memory_high_watermark', 'absolute', '1GiB']);
    });
    // RabbitMQ blocks a connection (and sends connection.blocked) at its first publish after the alarm, so the first
    // message is held by RabbitMQ until the alarm clears; it is not lost (delivered below), and the rest are refused
    const first = v1Body(b.id);
    const firstAnswer = postMessage(agentA.url, first);
    await waitUntil(() => !running.server.readiness().isReady, 15_000, 'server not ready while RabbitMQ blocks publishing');
    const ready = await probe(`${running.url}/v1/ready`);
    expect(ready.status).toBe(503);
    expect((JSON.parse(ready.text) as { checks: Record<string, string> }).checks.publishing).toMatch(/^blocked: /);
    expect((await probe(`${running.url}/metrics`)).text).toMatch(/^dmr_broker_blocked 1$/m);

    const during = v1Body(b.id);
    const refused = await postMessage(agentA.url, during);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ serverCode: 'DMR_ROUTE_BROKER_BLOCKED' });

    expect((await firstAnswer).status).toBe(504);

    await node.ctl(['set_vm_memory_high_watermark', 'absolute', '1GiB']);
    await waitUntil(() => running.server.readiness().isReady, 15_000, 'ready again after the alarm cleared');
    expect((await probe(`${running.url}/metrics`)).text).toMatch(/^dmr_broker_blocked 0$/m);
    // the refused message was never published: the sender's retry with the same id is its only copy
    expect((await postMessage(agentA.url, during)).status).toBe(202);
    await waitUntil(() => receiver.countOf(during.id) === 1, 10_000, 'delivery after the alarm');
    await waitUntil(() => receiver.countOf(first.id) === 1, 10_000, 'the message held during the alarm delivered');
    expect(receiver.countOf(during.id)).toBe(1);
  });
});
