// Issue #2 acceptance: the server survives a RabbitMQ restart and shuts down gracefully without losing
// any message it answered 202 for. Real processes are not needed here: in-process servers and agents
// over real sockets, and a dedicated RabbitMQ node that this file restarts.
import { findFreePort, type RabbitNode, startRabbitNode } from '@dmr/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  probe,
  Receiver,
  RegistryFile,
  type RunningServer,
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

async function world(): Promise<{ a: Identity; b: Identity; registry: RegistryFile; receiver: Receiver }> {
  const a = await makeIdentity('ec');
  const b = await makeIdentity('ec');
  const registry = new RegistryFile([a, b]);
  const receiver = await new Receiver().start();
  cleanups.push(async () => {
    await receiver.close();
    registry.remove();
  });
  return { a, b, registry, receiver };
}

describe('RabbitMQ restart', () => {
  let node: RabbitNode;

  beforeAll(async () => {
    node = await startRabbitNode({ management: false });
  });

  afterAll(async () => {
    await node?.stop();
  });

  it('rebuilds channels and consumers, refuses (never loses) messages while the broker is down, and delivers after', async () => {
    const { a, b, registry, receiver } = await world();
    const rabbit = { amqpPort: node.amqpPort, managementBase: 'http://127.0.0.1:1', user: node.user, password: node.password, vhost: '/' };
    const running = await startServer(serverEnv(rabbit, registry.url, { RABBITMQ_APPLY_POLICIES: 'false' }));
    cleanups.push(() => running.server.stop());
    const agentA = await startAgent(a, running.url, receiver.url);
    const agentB = await startAgent(b, running.url, receiver.url);
    cleanups.push(
      () => agentA.agent.stop(),
      () => agentB.agent.stop(),
    );

    const before = v1Body(b.id);
    expect((await postMessage(agentA.url, before)).status).toBe(202);
    await waitUntil(() => receiver.countOf(before.id) === 1, 10_000, 'delivery before the restart');

    await node.kill();
    await waitUntil(() => running.server.broker.status !== 'connected', 10_000, 'server notices the broker is gone');
    const duringOutage = await postMessage(agentA.url, v1Body(b.id));
    expect(duringOutage.status).toBe(502);
    expect(duringOutage.body).toMatchObject({ serverCode: 'DMR_ROUTE_BROKER_UNAVAILABLE' });
    expect((await probe(`${running.url}/v1/ready`)).status).toBe(503);

    await node.restart();
    await waitUntil(() => running.server.readiness().isReady, 30_000, 'server ready after the broker came back');
    const after = v1Body(b.id);
    expect((await postMessage(agentA.url, after)).status).toBe(202);
    await waitUntil(() => receiver.countOf(after.id) === 1, 10_000, 'delivery through the rebuilt consumer');
    expect(receiver.received.map((message) => message.id)).toEqual([before.id, after.id]);
    expect(running.logs.find({ msg: 'RabbitMQ connection lost' }).length).toBeGreaterThanOrEqual(1);
  });
});

describe('graceful shutdown', () => {
  it('loses nothing it answered 202 for when the server stops mid-stream and a new instance takes over', async () => {
    const rabbit = await useRabbitVhost();
    cleanups.push(() => rabbit.cleanup());
    const { a, b, registry, receiver } = await world();
    const port = await findFreePort();
    const env = serverEnv(rabbit, registry.url, { PORT: String(port) });
    const first: RunningServer = await startServer(env);
    const agentA = await startAgent(a, first.url, receiver.url);
    const agentB = await startAgent(b, first.url, receiver.url);
    cleanups.push(
      () => agentA.agent.stop(),
      () => agentB.agent.stop(),
    );

    const bodies = Array.from({ length: 200 }, () => v1Body(b.id));
    const sending = Promise.all(bodies.map((body) => postMessage(agentA.url, body)));
    await waitUntil(() => receiver.received.length >= 20, 10_000, 'stream under way');
    await first.server.stop();
    const responses = await sending;

    const second = await startServer(env);
    cleanups.push(() => second.server.stop());
    const accepted = bodies.filter((_, index) => responses[index]?.status === 202).map((body) => body.id);
    const refused = responses.filter((response) => response.status !== 202);
    for (const response of refused) expect([502, 503, 504]).toContain(response.status);
    expect(accepted.length).toBeGreaterThan(0);
    process.stdout.write(`graceful shutdown: ${accepted.length} accepted, ${refused.length} refused\n`);
    await waitUntil(() => accepted.every((id) => receiver.countOf(id) === 1), 20_000, 'every accepted message delivered after takeover');
    const duplicates = receiver.received.length - new Set(receiver.received.map((message) => message.id)).size;
    expect(duplicates).toBe(0);
    expect(first.logs.find({ msg: 'dmr-server stopped' })).toHaveLength(1);
  });
});
