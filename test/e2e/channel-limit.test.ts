// Operational limit: dmr-server opens one consumer channel per connected agent on its one RabbitMQ connection, so
// the broker's channel_max caps the agents one instance can serve (deploy/rabbitmq raises it to 16384). Past the cap
// an agent must be refused with a reason an operator can act on, and the agents already connected keep working.
import { type RabbitNode, startRabbitNode } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';

describe('RabbitMQ channel limit reached', () => {
  let node: RabbitNode;
  let server: RunningServer;
  let registry: RegistryFile;
  let receiver: Receiver;
  const agents: RunningAgent[] = [];
  let a: Identity;
  let b: Identity;
  let c: Identity;

  beforeAll(async () => {
    a = await makeIdentity('ec');
    b = await makeIdentity('ec');
    c = await makeIdentity('ec');
    // channel 1 publishes, channel 2 listens on dmr.control (DMR_CONTROL_PUSH, on by default); channels 3 and 4 are
    // the consumers of the first two agents; nothing is left for a third
    node = await startRabbitNode({ management: false, channelMax: 4 });
    registry = new RegistryFile([a, b, c]);
    receiver = await new Receiver().start();
    const rabbit = { amqpPort: node.amqpPort, managementBase: 'http://127.0.0.1:1', user: node.user, password: node.password, vhost: '/' };
    server = await startServer(serverEnv(rabbit, registry.url, { RABBITMQ_APPLY_POLICIES: 'false' }));
  });

  afterAll(async () => {
    for (const running of agents.reverse()) await running.agent.stop();
    await server?.server.stop();
    await receiver?.close();
    registry?.remove();
    await node?.stop();
  });

  it('refuses the agent past the limit with an actionable reason; connected agents keep relaying', async () => {
    agents.push(await startAgent(a, server.url, receiver.url));
    agents.push(await startAgent(b, server.url, receiver.url));
    agents.push(await startAgent(c, server.url, receiver.url, {}, { waitReady: false }));

    await waitUntil(
      () => server.logs.find({ msg: 'could not start consuming for agent; disconnecting it so it retries', agentId: c.id }).length > 0,
      15_000,
      'refusal of the third agent',
    );
    const [refusal] = server.logs.find({ agentId: c.id, msg: 'could not start consuming for agent; disconnecting it so it retries' });
    expect(JSON.stringify(refusal)).toMatch(/channel limit is used up .*raise channel_max on the broker or run more server instances/);
    // C keeps retrying (each attempt is refused the same way) and never gets a consumer
    expect(server.logs.find({ msg: 'agent connected', agentId: c.id })).toEqual([]);
    expect(server.logs.find({ msg: 'agent connected' }).map((line) => line.agentId)).toEqual(expect.arrayContaining([a.id, b.id]));

    const body = v1Body(b.id);
    expect((await postMessage(agents[0]?.url ?? '', body)).status).toBe(202);
    await waitUntil(() => receiver.countOf(body.id) === 1, 10_000, 'delivery A→B while C is refused');
  });
});
