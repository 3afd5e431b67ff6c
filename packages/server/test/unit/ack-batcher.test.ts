import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message } from 'amqplib';
import { describe, expect, it, vi } from 'vitest';
import { AckBatcher, type AckChannel } from '../../src/amqp/index.js';

/** Records the frames the batcher sends, as [kind, tag, multiple-or-requeue]. */
function recordingChannel() {
  const frames: Array<[string, number, boolean]> = [];
  const channel: AckChannel = {
    ack: (message, allUpTo) => void frames.push(['ack', message.fields.deliveryTag, Boolean(allUpTo)]),
    nack: (message, _allUpTo, requeue) => void frames.push(['nack', message.fields.deliveryTag, Boolean(requeue)]),
  };
  return { channel, frames };
}

const delivery = (deliveryTag: number) => ({ fields: { deliveryTag } }) as Message;

function tracked(count: number) {
  const { channel, frames } = recordingChannel();
  const acks = new AckBatcher(channel);
  const deliveries = Array.from({ length: count }, (_, i) => delivery(i + 1));
  for (const d of deliveries) acks.track(d);
  return { acks, frames, deliveries };
}

describe('AckBatcher', () => {
  it('acks a run of settled deliveries with one multiple ack at the end of the turn', async () => {
    const { acks, frames, deliveries } = tracked(4);
    for (const d of deliveries.slice(0, 3)) acks.ack(d);
    expect(frames).toEqual([]);
    await nextTurn();
    expect(frames).toEqual([['ack', 3, true]]);
    expect(acks.unackedCount).toBe(1);
  });

  it('never lets a multiple ack cover a held delivery; those behind it are acked one by one at once', async () => {
    const { acks, frames, deliveries } = tracked(5);
    // 3 is held (retried in place); 1, 2, 4 and 5 are settled
    for (const tag of [5, 1, 4, 2]) acks.ack(deliveries[tag - 1] as Message);
    await nextTurn();
    expect(frames).toEqual([
      ['ack', 2, true],
      ['ack', 4, false],
      ['ack', 5, false],
    ]);
    acks.ack(deliveries[2] as Message);
    await nextTurn();
    expect(frames.at(-1)).toEqual(['ack', 3, false]);
    expect(acks.unackedCount).toBe(0);
  });

  it('a nacked delivery leaves the run; a later multiple ack may pass it', async () => {
    const { acks, frames, deliveries } = tracked(3);
    acks.ack(deliveries[0] as Message);
    acks.nack(deliveries[1] as Message, true);
    acks.ack(deliveries[2] as Message);
    await nextTurn();
    expect(frames).toEqual([
      ['nack', 2, true],
      ['ack', 3, true],
    ]);
  });

  it('flush sends pending acks at once, and an ack twice is sent once', async () => {
    const { acks, frames, deliveries } = tracked(2);
    acks.ack(deliveries[1] as Message);
    acks.ack(deliveries[1] as Message);
    acks.flush();
    expect(frames).toEqual([['ack', 2, false]]);
    await nextTurn();
    expect(frames).toHaveLength(1);
    acks.ack(delivery(99));
    acks.flush();
    expect(frames).toHaveLength(1);
  });

  it('a channel that closed before the flush makes it a no-op, not a crash', () => {
    // fake timers: the end-of-turn flush then runs inside the assertion below, so an error escaping it fails this
    // test (with real timers it would be thrown from a setImmediate callback, outside any assertion)
    vi.useFakeTimers({ toFake: ['setImmediate', 'clearImmediate'] });
    try {
      const attempts: number[] = [];
      const acks = new AckBatcher({
        ack: (message) => {
          attempts.push(message.fields.deliveryTag);
          throw new Error('Channel closed');
        },
        nack: () => undefined,
      });
      acks.track(delivery(1));
      acks.ack(delivery(1));
      expect(attempts, 'nothing sent before the end of the turn').toEqual([]);
      expect(() => vi.runAllTimers()).not.toThrow();
      expect(attempts, 'the scheduled flush did try the closed channel').toEqual([1]);
      expect(acks.unackedCount, 'the delivery is forgotten: the closed channel gave it back to the queue').toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an explicit flush on a closed channel throws, as amqplib does', () => {
    const acks = new AckBatcher({
      ack: () => {
        throw new Error('Channel closed');
      },
      nack: () => undefined,
    });
    acks.track(delivery(1));
    acks.ack(delivery(1));
    expect(() => acks.flush()).toThrow('Channel closed');
  });
});
