// Issue 15 finding 13: the management API is not on the data path. With it unreachable the server still connects
// and relays, and reports the failure; once it is reachable the policies get applied without a restart. Before the
// fix every AMQP (re)connect applied the policies first and failed with them, so the server never became ready.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { findFreePort } from '@dmr/testkit';
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

/** A TCP relay from `port` to the real management port: "the management plugin comes back". */
async function relay(port: number, targetPort: number): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, sockets };
}

describe('RabbitMQ policies applied in the background', () => {
  it('relays while the management API is unreachable, reports the failure, and applies the policies once it is back', async () => {
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
    const closedPort = await findFreePort();
    const running = await startServer(serverEnv({ ...rabbit, managementBase: `http://127.0.0.1:${closedPort}` }, registry.url));
    cleanups.push(() => running.server.stop());
    const agentA = await startAgent(a, running.url, receiver.url);
    cleanups.push(() => agentA.agent.stop());
    const agentB = await startAgent(b, running.url, receiver.url);
    cleanups.push(() => agentB.agent.stop());

    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    await waitUntil(() => receiver.countOf(body.id) === 1, 10_000, 'delivery without the management API');

    const ready = await probe(`${running.url}/v1/ready`);
    expect(ready.status).toBe(200);
    expect((JSON.parse(ready.text) as { checks: Record<string, string> }).checks.policies).toMatch(/^failed: DMR_ROUTE_POLICIES_FAILED/);
    const before = (await probe(`${running.url}/metrics`)).text;
    expect(before).toMatch(/^dmr_broker_policies_applied 0$/m);
    expect(before).toMatch(/^dmr_broker_policy_failures_total [1-9]/m);
    expect(running.logs.find({ code: 'DMR_ROUTE_POLICIES_FAILED' }).length).toBeGreaterThanOrEqual(1);

    const proxy = await relay(closedPort, rabbit.managementPort);
    cleanups.push(async () => {
      for (const socket of proxy.sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
    });
    await waitUntil(() => running.server.readiness().checks.policies === 'applied', 15_000, 'policies applied once management is back');
    expect((await probe(`${running.url}/metrics`)).text).toMatch(/^dmr_broker_policies_applied 1$/m);
    const authorization = `Basic ${Buffer.from(`${rabbit.user}:${rabbit.password}`).toString('base64')}`;
    const policies = (await (
      await fetch(`${rabbit.managementApiBase}/policies/${encodeURIComponent(rabbit.vhost)}`, { headers: { authorization } })
    ).json()) as Array<{ name: string }>;
    expect(policies.map((policy) => policy.name)).toContain('dmr-agent-queues');
  });
});
