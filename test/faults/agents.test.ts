// Issue #3: the recipient agent fails mid-stream. Agent B's process is killed (kill -9) and started again;
// agent B's socket to its server is cut repeatedly (a TCP proxy between them resets the connection).
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { expectNoLoss, runScenario } from './support/scenario.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { cleanUp, FaultWorld } from './support/world.js';

describe('agent B fails mid-stream', () => {
  let rabbit: RabbitVhostHandle | undefined;
  let world: FaultWorld | undefined;
  let proxy: TcpProxy | undefined;

  afterEach(async () => {
    const steps = [proxy?.close.bind(proxy), world?.close.bind(world), rabbit?.cleanup.bind(rabbit)];
    proxy = undefined;
    world = undefined;
    rabbit = undefined;
    await cleanUp(...steps);
  });

  async function open(): Promise<FaultWorld> {
    rabbit = await useRabbitVhost();
    world = await new FaultWorld({ ...rabbit, hosts: '127.0.0.1', managementUris: rabbit.managementBase }).open();
    return world;
  }

  it('kill -9 of agent B, then restart: every 202 delivered and acted on once, in order; a re-post only for what was in flight at the kill', {
    timeout: 240_000,
  }, async () => {
    const w = await open();
    const s1 = await w.startServer('server-1');
    const agentA = await w.startAgent('agent-a', w.a, [s1.url]);
    const agentB = await w.startAgent('agent-b', w.b, [s1.url]);
    let inFlightAtKill = new Set<string>();
    const run = await runScenario({
      name: 'kill -9 agent B + restart',
      world: w,
      agentUrls: [agentA.url],
      fault: async () => {
        const disconnects = () => s1.proc.find({ msg: 'agent disconnected', agentId: w.b.id }).length;
        const before = disconnects();
        await agentB.proc.kill9();
        // requests B wrote just before dying still reach the endpoint, and its last acks still reach the server:
        // wait until the endpoint has no connection left from B (each request recorded or failed) and the server
        // has seen B's socket close (the acks read before the close are logged as delivered before that line)
        await waitUntil(() => w.endpoint.isQuiet, 30_000, 'every connection of the dead agent B to the endpoint closed');
        await waitUntil(() => disconnects() > before, 30_000, "the server saw the dead agent B's socket close");
        inFlightAtKill = inFlightAt(w, s1.proc.lines);
        await agentB.restart();
      },
    });
    process.stdout.write(`  in flight at the kill (endpoint had them, RabbitMQ had no ack): ${inFlightAtKill.size}\n`);
    expectNoLoss(run, w, { allowRepostsOf: inFlightAtKill });
  });

  it("agent B's socket cut 8 times mid-stream: every 202 delivered once, in order", { timeout: 240_000 }, async () => {
    const w = await open();
    const s1 = await w.startServer('server-1');
    proxy = await new TcpProxy(s1.port).start();
    const agentA = await w.startAgent('agent-a', w.a, [s1.url]);
    await w.startAgent('agent-b', w.b, [`http://127.0.0.1:${proxy.port}`]);
    const cutter = proxy;
    // deliveries the endpoint had when each cut was made
    const deliveredAtCut: number[] = [];
    const run = await runScenario({
      name: "agent B's socket dropped 8×",
      world: w,
      agentUrls: [agentA.url],
      faultAfter: 100,
      fault: async () => {
        const connections = () => s1.proc.find({ msg: 'agent connected', agentId: w.b.id }).length;
        for (let cut = 0; cut < 8; cut++) {
          // every cut hits a connection the server has taken into use, while B is delivering; a wait that runs
          // out fails the test (a cut after the stream ended would prove nothing)
          await waitUntil(() => connections() > cut, 30_000, `agent B connected again before cut ${cut + 1}`);
          const before = w.endpoint.accepted.length;
          await waitUntil(() => w.endpoint.accepted.length > before + 10, 15_000, `agent B delivering before cut ${cut + 1}`);
          deliveredAtCut.push(w.endpoint.accepted.length);
          cutter.cut();
        }
      },
    });
    expectNoLoss(run, w);
    expect(s1.proc.find({ msg: 'agent disconnected' }).length).toBeGreaterThanOrEqual(8);
    // every cut landed mid-stream: accepted messages were still outstanding, and delivered after the last cut
    expect(deliveredAtCut).toHaveLength(8);
    const lastCutAt = deliveredAtCut.at(-1) ?? Number.POSITIVE_INFINITY;
    expect(lastCutAt, 'messages still outstanding at the last cut').toBeLessThan(run.summary.accepted);
    expect(w.endpoint.accepted.length - lastCutAt, 'deliveries after the last cut').toBeGreaterThan(0);
  });
});

/**
 * Ids the endpoint accepted whose delivery the server never settled as delivered: B died between the endpoint's
 * 2xx and its ack reaching the server. Only these may legitimately reach the endpoint twice.
 */
function inFlightAt(world: FaultWorld, serverLines: ReadonlyArray<Record<string, unknown>>): Set<string> {
  const acked = new Set(
    serverLines.filter((line) => line.msg === 'message outcome' && line.result === 'delivered').map((line) => String(line.msgId)),
  );
  return new Set([...world.endpoint.deliveredIds()].filter((id) => !acked.has(id)));
}
