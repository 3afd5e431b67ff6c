// Issue 18: the dmr.control binding outlives broker trouble. This file starts its own RabbitMQ node (it restarts it);
// the registry comes from the https stand-in for dmr-control (test/helpers/control-stand-in.ts).
import type { DmrServer } from '@dmr/server';
import { buildServer, loadServerConfig } from '@dmr/server';
import { type RabbitNode, startRabbitNode } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Identity, LogCapture, makeIdentity, serverEnv, testPki, waitUntil } from '../../../../test/support/dmr-system.js';
import { announce, announcement, ControlStandIn } from '../helpers/control-stand-in.js';

describe('dmr.control binding across broker trouble', () => {
  let node: RabbitNode;
  let standIn: ControlStandIn;
  let server: DmrServer;
  let logs: LogCapture;
  let agents: Identity[];

  beforeAll(async () => {
    const pki = await testPki();
    const [started, leaf, a, b] = await Promise.all([
      startRabbitNode({ management: false }),
      pki.server('control'),
      makeIdentity(),
      makeIdentity(),
    ]);
    node = started;
    agents = [a, b];
    standIn = await new ControlStandIn().start({ cert: leaf.cert, key: leaf.key, ca: pki.caCert });
    standIn.setRegistry({ agents, configVersion: 1 });
    const broker = { amqpPort: node.amqpPort, managementBase: 'http://127.0.0.1:9', user: node.user, password: node.password, vhost: '/' };
    const env = serverEnv(broker, `${standIn.url}/centops/configuration`, {
      RABBITMQ_APPLY_POLICIES: 'false',
      CENTOPS_CONFIGURATION_CRON_TIME: '0 0 1 1 *',
      CENTOPS_CONFIGURATION_CA_FILE: pki.caCertPath,
      DMR_INSTANCE_ID: 'relay-restart',
    });
    logs = new LogCapture('dmr-server');
    server = buildServer(loadServerConfig(env), { log: logs.logger });
    await server.start();
    await waitUntil(() => server.readiness().isReady && server.control.listener?.status === 'bound', 15_000, 'ready and bound');
  });

  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
    await node?.stop();
  });

  const bindings = () => logs.find({ msg: 'listening for control plane announcements' });

  it('binds again after a broker restart, catches up on what it missed, and still reacts to announcements', async () => {
    standIn.setRegistry({ agents, configVersion: 2 });
    await announce(node.amqpUrl(), [announcement(2, ['registry'])]);
    await waitUntil(() => server.registry.configVersion === 2, 2000, 'version 2 by push');
    const bindingsBefore = bindings().length;

    // published while this server is away: the announcement is lost with its queue, the catch-up after binding is not
    standIn.setRegistry({ agents, configVersion: 3 });
    await node.restart();
    await waitUntil(() => server.broker.isConnected && server.control.listener?.status === 'bound', 30_000, 'bound again');
    expect(bindings().length).toBe(bindingsBefore + 1);
    await waitUntil(() => server.registry.configVersion === 3, 5000, 'version 3 by the catch-up');

    standIn.setRegistry({ agents, configVersion: 4 });
    await announce(node.amqpUrl(), [announcement(4, ['registry'])]);
    await waitUntil(() => server.registry.configVersion === 4, 2000, 'version 4 by push after the restart');
    expect(server.readiness().isReady).toBe(true);
  });

  it('binds a fresh queue when RabbitMQ cancels the consumer (its queue deleted by an operator)', async () => {
    const [queue] = bindings()
      .map((line) => String(line.queue))
      .slice(-1);
    expect(queue).toMatch(/^dmr\.control\.relay-restart\.[0-9a-f]{8}$/);
    const bindingsBefore = bindings().length;
    await node.ctl(['delete_queue', queue as string]);
    await waitUntil(() => bindings().length === bindingsBefore + 1, 10_000, 'bound to a fresh queue');
    expect(logs.find({ reason: 'consumer cancelled by RabbitMQ' }).length).toBeGreaterThan(0);

    standIn.setRegistry({ agents, configVersion: 5 });
    await announce(node.amqpUrl(), [announcement(5, ['registry'])]);
    await waitUntil(() => server.registry.configVersion === 5, 2000, 'version 5 by push on the fresh queue');
  });
});
