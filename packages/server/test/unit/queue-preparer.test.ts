import { DmrError, MESSAGES_EXCHANGE, VALIDATION_FAILURES_EXCHANGE } from '@dmr/shared';
import type { Channel } from 'amqplib';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentQueuePreparer, type AssertAgent, assertEach, guardRecipientQueues } from '../../src/amqp/index.js';

const log = pino({ level: 'silent' });

/** What amqplib rejects with when RabbitMQ closes the channel over a declare (reply code 406). */
function preconditionFailed(queue: string): Error {
  return Object.assign(
    new Error(
      `Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '${queue}'"`,
    ),
    { code: 406 },
  );
}

/** Fake channels that record which one declared what; `bad` ids are refused (until `fixed`). */
function fakeBroker(bad: Set<string>) {
  const opened: Array<{ closed: boolean; declared: string[] }> = [];
  const open = async (): Promise<Channel> => {
    const record = { closed: false, declared: [] as string[] };
    opened.push(record);
    const close = async (): Promise<void> => {
      record.closed = true;
    };
    return { close, record } as unknown as Channel;
  };
  const assert: AssertAgent = async (channel, agentId) => {
    const record = (channel as unknown as { record: { closed: boolean; declared: string[] } }).record;
    if (record.closed) throw new Error('Channel closed');
    if (bad.has(agentId)) throw preconditionFailed(`dmr.agent.${agentId}`);
    record.declared.push(agentId);
  };
  return { open, assert, opened };
}

function metricsSpy() {
  const failures: string[] = [];
  let unprepared = -1;
  return {
    metrics: {
      unpreparedAgents: {
        set: (value: number) => {
          unprepared = value;
        },
      },
      prepareFailures: { inc: ({ code }: { code: string }) => void failures.push(code) },
    },
    failures,
    unprepared: () => unprepared,
  };
}

describe('assertEach', () => {
  it('declares every other agent after one is refused, on a fresh channel, and reports only the refused one', async () => {
    const { open, assert, opened } = fakeBroker(new Set(['b']));
    const failures = await assertEach(['a', 'b', 'c', 'd'], open, assert);
    expect([...failures.keys()]).toEqual(['b']);
    expect(failures.get('b')?.code).toBe('DMR_ROUTE_QUEUE_UNAVAILABLE');
    expect(failures.get('b')?.message).toMatch(/^PRECONDITION_FAILED - inequivalent arg 'x-queue-type'/);
    expect(opened.map((channel) => channel.declared)).toEqual([['a'], ['c', 'd']]);
    expect(opened.every((channel) => channel.closed)).toBe(true);
  });

  it('throws what is not a channel exception (the connection went away): no agent is blamed for it', async () => {
    const lost = async () => {
      throw new Error('Connection closed');
    };
    const { open } = fakeBroker(new Set());
    await expect(assertEach(['a'], open, lost)).rejects.toThrow('Connection closed');
  });
});

describe('AgentQueuePreparer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function preparer(bad: Set<string>, isConnected = true) {
    const broker = fakeBroker(bad);
    const spy = metricsSpy();
    const queues = new AgentQueuePreparer({
      openChannel: broker.open,
      isConnected: () => isConnected,
      backoff: { initialDelayMs: 100, maxDelayMs: 1000 },
      metrics: spy.metrics,
      log,
      assertAgent: broker.assert,
    });
    return { queues, broker, spy };
  }

  it('reports and refuses the refused agent, then retries it with backoff until it is declared', async () => {
    const bad = new Set(['b']);
    const { queues, broker, spy } = preparer(bad);
    await queues.prepareAll(['a', 'b', 'c'], broker.open);
    expect(queues.unpreparedAgentIds()).toEqual(['b']);
    expect(queues.describe()).toBe('unprepared: b');
    expect(queues.refusal('b')?.code).toBe('DMR_ROUTE_QUEUE_UNAVAILABLE');
    expect(queues.refusal('a')).toBeUndefined();
    expect(spy.unprepared()).toBe(1);
    expect(spy.failures).toEqual(['DMR_ROUTE_QUEUE_UNAVAILABLE']);

    await vi.advanceTimersByTimeAsync(1000);
    expect(spy.failures.length).toBeGreaterThanOrEqual(2);
    expect(queues.refusal('b')).toBeDefined();

    bad.clear(); // the operator deleted the conflicting queue
    await vi.advanceTimersByTimeAsync(5000);
    expect(queues.refusal('b')).toBeUndefined();
    expect(queues.describe()).toBe('ok');
    expect(spy.unprepared()).toBe(0);
    await queues.stop();
  });

  it('isolates and retries an agent added to the registry later (the registry hook path)', async () => {
    const bad = new Set(['late']);
    const { queues, broker, spy } = preparer(bad);
    await queues.prepare(['ok', 'late']);
    expect(queues.unpreparedAgentIds()).toEqual(['late']);
    expect(broker.opened.flatMap((channel) => channel.declared)).toEqual(['ok']);
    bad.clear();
    await vi.advanceTimersByTimeAsync(5000);
    expect(queues.describe()).toBe('ok');
    expect(spy.failures).toEqual(['DMR_ROUTE_QUEUE_UNAVAILABLE']);
    await queues.stop();
  });

  it('marks agents added while RabbitMQ is down as unprepared without counting a queue failure', async () => {
    const { queues, spy } = preparer(new Set(), false);
    await queues.prepare(['x']);
    expect(queues.refusal('x')).toBeDefined();
    expect(spy.failures).toEqual([]);
    queues.forget(['x']);
    expect(queues.describe()).toBe('ok');
    await queues.stop();
  });

  it('names at most ten agents in readiness', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `agent-${i}`);
    const { queues, broker } = preparer(new Set(ids));
    await queues.prepareAll(ids, broker.open);
    expect(queues.describe()).toBe(`unprepared: ${ids.slice(0, 10).join(', ')} +2 more`);
    await queues.stop();
  });
});

describe('guardRecipientQueues', () => {
  it('refuses messages to an unprepared agent at once and passes everything else through', async () => {
    const published: string[] = [];
    const guarded = guardRecipientQueues(
      { publish: async (exchange, key) => void published.push(`${exchange}/${key}`) },
      { refusal: (id) => (id === 'bad' ? new DmrError('DMR_ROUTE_QUEUE_UNAVAILABLE', 'queues of bad are not declared') : undefined) },
    );
    await expect(guarded.publish(MESSAGES_EXCHANGE, 'bad', Buffer.alloc(0))).rejects.toMatchObject({ code: 'DMR_ROUTE_QUEUE_UNAVAILABLE' });
    await guarded.publish(MESSAGES_EXCHANGE, 'good', Buffer.alloc(0));
    await guarded.publish(VALIDATION_FAILURES_EXCHANGE, 'bad', Buffer.alloc(0));
    expect(published).toEqual([`${MESSAGES_EXCHANGE}/good`, `${VALIDATION_FAILURES_EXCHANGE}/bad`]);
  });
});
