// Issue #3: kill -9 of a dmr-server process mid-stream, once the one holding B's connection (B reconnects to
// another instance, or to the restarted one), once the one holding A's (A's callers get errors for what was not
// accepted and retry with the same id). Real server and agent processes, the run's RabbitMQ node.
import { afterEach, describe, expect, it } from 'vitest';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { expectNoLoss, runScenario } from './support/scenario.js';
import { cleanUp, FaultWorld } from './support/world.js';

describe('dmr-server killed mid-stream', () => {
  let rabbit: RabbitVhostHandle | undefined;
  let world: FaultWorld | undefined;

  afterEach(async () => {
    const steps = [world?.close.bind(world), rabbit?.cleanup.bind(rabbit)];
    world = undefined;
    rabbit = undefined;
    await cleanUp(...steps);
  });

  async function open(): Promise<FaultWorld> {
    rabbit = await useRabbitVhost();
    world = await new FaultWorld({ ...rabbit, hosts: '127.0.0.1', managementUris: rabbit.managementBase }).open();
    return world;
  }

  it('kill -9 of the server holding B: B fails over to the other instance; every 202 delivered once, in order', {
    timeout: 240_000,
  }, async () => {
    const w = await open();
    const s1 = await w.startServer('server-1');
    const s2 = await w.startServer('server-2');
    const agentA = await w.startAgent('agent-a', w.a, [s2.url]);
    await w.startAgent('agent-b', w.b, [s1.url, s2.url]);
    const run = await runScenario({
      name: 'kill -9 server holding B (failover)',
      world: w,
      agentUrls: [agentA.url],
      fault: () => s1.proc.kill9(),
    });
    expectNoLoss(run, w);
    expect(s2.proc.find({ msg: 'agent connected', agentId: w.b.id }), 'B failed over to server 2').not.toHaveLength(0);
  });

  it('kill -9 of the server holding B: B reconnects to the restarted instance; slow endpoint, acks in flight', {
    timeout: 240_000,
  }, async () => {
    const w = await open();
    const s1 = await w.startServer('server-1');
    const s2 = await w.startServer('server-2');
    const agentA = await w.startAgent('agent-a', w.a, [s2.url]);
    await w.startAgent('agent-b', w.b, [s1.url]);
    // a slow chatbot keeps deliveries of the old connection in flight while B is already on the new one
    w.endpoint.latencyMs = 25;
    const run = await runScenario({
      name: 'kill -9 server holding B (restart)',
      world: w,
      agentUrls: [agentA.url],
      faultAfter: 150,
      fault: async () => {
        await s1.proc.kill9();
        await s1.restart();
      },
    });
    expectNoLoss(run, w);
  });

  it('kill -9 of the server holding A: callers see errors for what was not accepted; every 202 delivered once', {
    timeout: 240_000,
  }, async () => {
    const w = await open();
    const s1 = await w.startServer('server-1');
    const s2 = await w.startServer('server-2');
    const agentA = await w.startAgent('agent-a', w.a, [s1.url, s2.url]);
    await w.startAgent('agent-b', w.b, [s2.url]);
    const run = await runScenario({ name: 'kill -9 server holding A', world: w, agentUrls: [agentA.url], fault: () => s1.proc.kill9() });
    expectNoLoss(run, w);
    expect(run.summary.callerErrors, 'callers saw the failed sends').toBeGreaterThan(0);
  });
});
