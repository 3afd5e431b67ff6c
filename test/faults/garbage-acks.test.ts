// Issue 15 acceptance: an agent acking garbage during a 1000-message run on 2 servers. Two hostile agents (one on
// each dmr-server process) send messages to themselves and answer every delivery with a malformed, missing,
// double or oversized ack, and throw generated shapes and unknown events at the server, for the whole run. The
// well-behaved stream A -> B crosses both instances. 0 instances may exit, 0 messages be lost or duplicated.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENTS } from '@dmr/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { makeIdentity } from '../support/dmr-system.js';
import { fixedTexts, generatedTexts, nestedText } from '../support/garbage.js';
import { HostileAgent } from '../support/hostile-agent.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { expectNoLoss, runScenario } from './support/scenario.js';
import { cleanUp, FaultWorld } from './support/world.js';

const FAKE_JWE = 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn';

/** Garbage for one hostile agent: answers its deliveries badly and keeps sending, until stopped. */
class GarbageRun {
  acksAnswered = 0;
  eventsSent = 0;
  #isStopped = false;
  readonly #texts: string[];
  readonly done: Promise<void>;

  constructor(
    readonly agent: HostileAgent,
    seed: number,
  ) {
    this.#texts = [...fixedTexts(), ...generatedTexts(seed, 200, { status: 'error' })];
    agent.handleDeliveries(({ ackId }) => this.#answer(ackId));
    this.done = this.#loop(seed);
  }

  stop(): Promise<void> {
    this.#isStopped = true;
    return this.done;
  }

  #answer(ackId: number): void {
    const turn = this.acksAnswered++ % 6;
    const text = this.#texts[this.acksAnswered % this.#texts.length] as string;
    if (turn === 0) return; // never answered
    if (turn === 1) this.agent.ack(ackId, '[]');
    else if (turn === 2) {
      this.agent.ack(ackId, `[${text}]`);
      this.agent.ack(ackId, `[${text}]`);
    } else if (turn === 3) this.agent.ack(ackId, `[${nestedText(5000, 'object')},{"status":"ok"}]`);
    else this.agent.ack(ackId, `[${text}]`);
  }

  async #loop(seed: number): Promise<void> {
    const shapes = generatedTexts(seed + 1, 400, {
      id: 'x',
      timestamp: new Date().toISOString(),
      senderId: this.agent.identity.id,
      recipientId: this.agent.identity.id,
      type: 'ChatMessage',
      payload: FAKE_JWE,
    });
    const event = JSON.stringify(EVENTS.messageToServer);
    for (let round = 0; !this.#isStopped; round++) {
      const own = {
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        senderId: this.agent.identity.id,
        recipientId: this.agent.identity.id,
        type: 'ChatMessage',
        payload: FAKE_JWE,
      };
      try {
        await this.agent.send(JSON.stringify(own), 5000);
        await this.agent.emit(event, [shapes[round % shapes.length] as string, '"not a function"'], { ack: true, timeoutMs: 5000 });
        await this.agent.emit('"error"', ['"boom"'], { ack: false });
        this.eventsSent += 3;
      } catch {
        // the server is unreachable (before the fix: it crashed); keep trying, the verdict counts the exits
      }
      await sleep(100);
    }
  }
}

describe('an agent acking garbage', () => {
  let rabbit: RabbitVhostHandle | undefined;
  let world: FaultWorld | undefined;
  const runs: GarbageRun[] = [];

  afterEach(async () => {
    for (const run of runs.splice(0)) {
      await run.stop().catch(() => undefined);
      run.agent.close();
    }
    const steps = [world?.close.bind(world), rabbit?.cleanup.bind(rabbit)];
    world = undefined;
    rabbit = undefined;
    await cleanUp(...steps);
  });

  it('during a 1000-message run on 2 servers: 0 instances exit, 0 lost, 0 duplicated for the well-behaved agents', {
    timeout: 240_000,
  }, async () => {
    rabbit = await useRabbitVhost();
    const w = await new FaultWorld({ ...rabbit, hosts: '127.0.0.1', managementUris: rabbit.managementBase }).open();
    world = w;
    const [c1, c2] = await Promise.all([makeIdentity('ec'), makeIdentity('ec')]);
    w.registry.write([w.a, w.b, c1, c2]);
    // garbage is retried briskly, so each hostile message spends its delivery limit within the run
    const fast = { DMR_REDELIVERY_DELAY_MS: '20', DMR_REDELIVERY_DELAY_MAX_MS: '200', DMR_DELIVERY_ACK_TIMEOUT_MS: '1000' };
    const s1 = await w.startServer('server-1', fast);
    const s2 = await w.startServer('server-2', fast);
    const agentA = await w.startAgent('agent-a', w.a, [s1.url]);
    await w.startAgent('agent-b', w.b, [s2.url]);
    runs.push(new GarbageRun(await new HostileAgent(s1.url, c1).connect(), 1));
    runs.push(new GarbageRun(await new HostileAgent(s2.url, c2).connect(), 2));

    const scenario = runScenario({
      name: 'an agent acking garbage on 2 servers',
      world: w,
      agentUrls: [agentA.url],
      // the garbage runs for the whole stream; mid-stream, both instances must still be there
      fault: async () => {
        expect([s1.proc.isRunning, s2.proc.isRunning]).toEqual([true, true]);
      },
    });
    scenario.catch(() => undefined); // settled below; a server exit ends the wait at once
    const firstExit = Promise.race([s1, s2].map((server) => server.proc.exited.then((code) => `${server.proc.name} exited with ${code}`)));
    const run = await Promise.race([
      scenario,
      firstExit.then((what) => {
        throw new Error(`a server instance exited mid-run: ${what}`);
      }),
    ]);
    const [first, second] = runs;
    await Promise.all(runs.map((garbage) => garbage.stop()));
    process.stdout.write(
      `  garbage: ${first?.acksAnswered} + ${second?.acksAnswered} deliveries answered badly, ${first?.eventsSent} + ${second?.eventsSent} hostile events; caller errors by status: ${JSON.stringify([...run.stream.callerErrors])}\n`,
    );

    const exits = [s1, s2].filter((server) => !server.proc.isRunning).length;
    expect(exits, 'server instances that exited').toBe(0);
    expectNoLoss(run, w);
    expect(run.summary.missing).toBe(0);
    expect(run.summary.duplicates).toBe(0);
    expect(run.summary.deadLettered, 'well-behaved messages dead-lettered').toBe(0);
    expect(first?.acksAnswered).toBeGreaterThan(100);
    expect(second?.acksAnswered).toBeGreaterThan(100);
    const survived = w.serverLines().filter((line) => line.msg === 'unhandled error survived; serving on');
    expect(survived, 'errors that escaped every handler (the process guard caught them)').toEqual([]);
    for (const server of [s1, s2]) expect(server.proc.find({ code: 'DMR_DELIVERY_INVALID_ACK' }).length).toBeGreaterThan(0);
  });
});
