// RouteAdmission in front of a stand-in router (the router itself needs RabbitMQ; its admission does not): the
// per-agent cap, what a refused sender is told, counted and logged, and that every slot comes back.
import type { SendAck } from '@dmr/shared';
import { createLogger } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import type { ServerMetrics } from '../../src/obs/index.js';
import { InFlightCounter, RouteAdmission, type RoutePort } from '../../src/routing/index.js';

/** A router whose routes stay open until the test settles them. */
class HeldRouter implements RoutePort {
  readonly calls: Array<{ raw: unknown; agentId: string; settle: (ack: SendAck) => void; fail: (error: Error) => void }> = [];
  route(raw: unknown, agentId: string): Promise<SendAck> {
    return new Promise((settle, fail) => this.calls.push({ raw, agentId, settle, fail }));
  }
}

function admission(max: number) {
  const router = new HeldRouter();
  const counted: unknown[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const metrics = { messagesTotal: { inc: (labels: unknown) => counted.push(labels) } } as unknown as ServerMetrics;
  const destination = { write: (line: string) => lines.push(JSON.parse(line)) };
  const log = createLogger({ name: 'test', level: 'info', destination });
  return { router, counted, lines, gate: new RouteAdmission(router, { metrics, log }, max) };
}

const BUSY_REASON =
  '2 messages of this agent are already in flight on this server (DMR_MAX_IN_FLIGHT_PER_AGENT); nothing was queued, retry later';

describe('RouteAdmission', () => {
  it('passes up to the cap through, refuses the next with DMR_ROUTE_AGENT_BUSY without routing it', async () => {
    const { router, gate } = admission(2);
    const first = gate.route({ id: 'm1' }, 'agent-a');
    const second = gate.route({ id: 'm2' }, 'agent-a');
    const refused = await gate.route({ id: 'm3' }, 'agent-a');
    expect(refused).toEqual({ status: 'error', error: 'DMR_ROUTE_AGENT_BUSY', reason: BUSY_REASON });
    expect(router.calls.map((call) => [call.raw, call.agentId])).toEqual([
      [{ id: 'm1' }, 'agent-a'],
      [{ id: 'm2' }, 'agent-a'],
    ]);
    // another agent has its own slots
    void gate.route({ id: 'b1' }, 'agent-b');
    expect(router.calls).toHaveLength(3);
    for (const call of router.calls) call.settle({ status: 'ok' });
    expect(await Promise.all([first, second])).toEqual([{ status: 'ok' }, { status: 'ok' }]);
  });

  it('counts and logs a refusal as one failed inbound outcome with the message id, never the content', async () => {
    const { gate, counted, lines } = admission(0);
    await gate.route({ id: 'm9', payload: 'secret' }, 'agent-a');
    await gate.route('not an object', 'agent-a');
    await gate.route({ id: 'x'.repeat(500) }, 'agent-a');
    expect(await gate.route(null, 'agent-a')).toMatchObject({ error: 'DMR_ROUTE_AGENT_BUSY' });
    expect(counted).toEqual(Array(4).fill({ stage: 'inbound', result: 'failed', code: 'DMR_ROUTE_AGENT_BUSY' }));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      msg: 'message outcome',
      msgId: 'm9',
      senderId: 'agent-a',
      stage: 'inbound',
      result: 'failed',
      code: 'DMR_ROUTE_AGENT_BUSY',
      durationMs: 0,
    });
    expect(lines[1]).not.toHaveProperty('msgId');
    expect(lines[2]?.msgId).toBe('x'.repeat(128));
    expect(lines[3]).not.toHaveProperty('msgId');
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('gives the slot back when a route ends, also when the router rejects', async () => {
    const { router, gate } = admission(1);
    const first = gate.route({ id: 'm1' }, 'agent-a');
    expect(await gate.route({ id: 'm2' }, 'agent-a')).toMatchObject({ error: 'DMR_ROUTE_AGENT_BUSY' });
    router.calls[0]?.fail(new Error('router broke'));
    await expect(first).rejects.toThrow('router broke');
    const second = gate.route({ id: 'm3' }, 'agent-a');
    expect(router.calls).toHaveLength(2);
    router.calls[1]?.settle({ status: 'ok' });
    expect(await second).toEqual({ status: 'ok' });
  });
});

describe('InFlightCounter', () => {
  it('a release without a slot held does not grant an extra slot', () => {
    const counter = new InFlightCounter(1);
    counter.release('a');
    expect(counter.countOf('a')).toBe(0);
    expect([counter.tryAcquire('a'), counter.tryAcquire('a')]).toEqual([true, false]);
  });
});
