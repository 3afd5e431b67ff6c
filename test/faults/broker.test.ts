// Issue #3: RabbitMQ itself fails mid-stream. A single durable node is stopped and started again; a 3-node
// cluster with quorum queues loses one node (kill -9 of its Erlang VM) and gets it back later. The servers know
// every cluster node (RABBITMQ_DEFAULT_HOST list) and every management API (policies are re-applied on reconnect).
import { setTimeout as sleep } from 'node:timers/promises';
import { agentQueueName } from '@dmr/shared';
import { type RabbitCluster, type RabbitNode, startRabbitCluster, startRabbitNode } from '@dmr/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/dmr-system.js';
import { expectNoLoss, runScenario } from './support/scenario.js';
import { type BrokerSpec, cleanUp, FaultWorld } from './support/world.js';

describe('RabbitMQ fails mid-stream', () => {
  let world: FaultWorld | undefined;
  let node: RabbitNode | undefined;
  let cluster: RabbitCluster | undefined;

  afterEach(async () => {
    const steps = [world?.close.bind(world), node?.stop.bind(node), cluster?.stop.bind(cluster)];
    world = undefined;
    node = undefined;
    cluster = undefined;
    await cleanUp(...steps);
  });

  it('single durable node stopped and started: every 202 delivered once, in order', { timeout: 300_000 }, async () => {
    // no management plugin (it only costs boot time here): the servers do not apply policies on this node
    node = await startRabbitNode({ management: false });
    const broker: BrokerSpec = {
      amqpPort: node.amqpPort,
      user: node.user,
      password: node.password,
      vhost: '/',
      managementBase: 'http://127.0.0.1:1',
      hosts: '127.0.0.1',
      managementUris: 'http://127.0.0.1:1',
    };
    world = await new FaultWorld(broker).open();
    const w = world;
    const noPolicies = { RABBITMQ_APPLY_POLICIES: 'false' };
    const s1 = await w.startServer('server-1', noPolicies);
    const s2 = await w.startServer('server-2', noPolicies);
    const agentA = await w.startAgent('agent-a', w.a, [s1.url]);
    await w.startAgent('agent-b', w.b, [s2.url]);
    const restarted = node;
    const run = await runScenario({
      name: 'RabbitMQ node stop + start',
      world: w,
      agentUrls: [agentA.url],
      // `rabbitmqctl stop` keeps serving for ~15 s before it closes the connections (measured): the stop starts
      // early and the stream is paced (≥ 28 s of sending), so the node goes down while messages still flow
      faultAfter: 60,
      plan: { paceMs: 700 },
      fault: () => restarted.restart(),
    });
    expectNoLoss(run, w);
    expect(run.summary.callerErrors, 'the outage fell inside the stream: callers saw it and retried').toBeGreaterThan(0);
    expect(w.serverLines().some((line) => line.msg === 'RabbitMQ connection lost')).toBe(true);
  });

  it('3-node cluster, quorum queues, one node killed and later restarted: every 202 delivered once, in order', {
    timeout: 300_000,
  }, async () => {
    cluster = await startRabbitCluster(3, { management: true });
    const [n1, n2, n3] = cluster.nodes as [RabbitNode, RabbitNode, RabbitNode];
    const hostOf = (member: RabbitNode) => `127.0.0.1:${member.amqpPort}`;
    const managementOf = (member: RabbitNode) => `http://127.0.0.1:${member.managementPort}`;
    const broker: BrokerSpec = {
      amqpPort: n1.amqpPort,
      user: cluster.user,
      password: cluster.password,
      vhost: '/',
      managementBase: managementOf(n1),
      hosts: [n1, n2, n3].map(hostOf).join(','),
      managementUris: [n1, n2, n3].map(managementOf).join(','),
    };
    world = await new FaultWorld(broker).open();
    const w = world;
    // server 1 starts on node 1, server 2 on node 2: the node loss cuts one server's connection, not both
    const s1 = await w.startServer('server-1');
    const s2 = await w.startServer('server-2', { RABBITMQ_DEFAULT_HOST: [n2, n3, n1].map(hostOf).join(',') });
    const agentA = await w.startAgent('agent-a', w.a, [s1.url]);
    await w.startAgent('agent-b', w.b, [s2.url]);
    const clusterRef = cluster;
    let down = { from: 0, until: 0 };
    const run = await runScenario({
      name: '3-node cluster, node killed + restarted',
      world: w,
      agentUrls: [agentA.url],
      plan: { paceMs: 300 },
      fault: async () => {
        await n1.kill();
        down = { from: Date.now(), until: Date.now() + 4000 };
        // the node stays down while a good part of the stream flows through the other two
        await sleep(4000);
        await n1.restart();
        await waitUntil(async () => (await clusterRef.runningNodes(n2)).length === 3, 60_000, 'node 1 back in the cluster');
      },
    });
    expectNoLoss(run, w);
    expect(run.summary.callerErrors, 'the node loss fell inside the stream').toBeGreaterThan(0);
    // server 1 lost node 1 and was back (on another node, policies applied through another management API) while node 1 was down
    const reconnects = s1.proc.find({ msg: 'RabbitMQ connected, topology asserted' }).map((line) => Date.parse(String(line.time)));
    expect(reconnects.some((at) => at > down.from && at < down.until)).toBe(true);
    // B's inbox is a quorum queue replicated on all three nodes, governed by DMR's policy
    const queue = await managementGet(n2, cluster, `/queues/%2F/${encodeURIComponent(agentQueueName(w.b.id))}`);
    expect(queue).toMatchObject({ type: 'quorum', policy: 'dmr-agent-queues' });
    expect((queue.members as string[]).length).toBe(3);
  });
});

async function managementGet(member: RabbitNode, owner: RabbitCluster, path: string): Promise<Record<string, unknown>> {
  const authorization = `Basic ${Buffer.from(`${owner.user}:${owner.password}`).toString('base64')}`;
  const response = await fetch(`http://127.0.0.1:${member.managementPort}/api${path}`, { headers: { authorization } });
  return (await response.json()) as Record<string, unknown>;
}
