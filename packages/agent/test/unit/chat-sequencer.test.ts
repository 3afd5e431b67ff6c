import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CANCELLED, ChatSequencer, type LaneVerdict } from '../../src/delivery/chat-sequencer.js';

/** A task the test finishes by hand. */
function controllable() {
  let finish: (ok: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  return { done, finish };
}

const verdict = (ok: boolean): LaneVerdict => (ok ? 'next' : 'park');

/** A task that notes its start in `log` and then settles like `outcome`. */
function noting(log: string[], key: string, outcome: boolean | Promise<boolean>): () => Promise<boolean> {
  return () => {
    log.push(key);
    return Promise.resolve(outcome);
  };
}

describe('ChatSequencer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits in ticket order although decryption finishes out of order, and runs one task per chat at a time', async () => {
    const sequencer = new ChatSequencer({ holdMs: 1000 });
    const started: string[] = [];
    const first = sequencer.ticket();
    const second = sequencer.ticket();
    const tasks = { m1: controllable(), m2: controllable() };
    // the second message is decrypted first; it must still queue behind the first
    const run2 = second.admit('chat', 'm2', noting(started, 'm2', tasks.m2.done), verdict);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([]);
    const run1 = first.admit('chat', 'm1', noting(started, 'm1', tasks.m1.done), verdict);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual(['m1']);
    tasks.m1.finish(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual(['m1', 'm2']);
    tasks.m2.finish(true);
    expect(await Promise.all([run1, run2])).toEqual([true, true]);
    expect(sequencer.activeLanes).toBe(0);
  });

  it('runs different chats concurrently, and a cancelled ticket does not block later ones', async () => {
    const sequencer = new ChatSequencer({ holdMs: 1000 });
    const started: string[] = [];
    const undecryptable = sequencer.ticket();
    const a = sequencer.ticket().admit('chat-a', 'a1', noting(started, 'a1', true), verdict);
    const b = sequencer.ticket().admit('chat-b', 'b1', noting(started, 'b1', true), verdict);
    undecryptable.cancel();
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(started).toEqual(['a1', 'b1']);
  });

  it('parks a chat after a failure until the failed message comes back, which then goes first', async () => {
    const sequencer = new ChatSequencer({ holdMs: 10_000 });
    const posted: string[] = [];
    let failFirst = true;
    const post = (key: string) => async () => {
      if (key === 'm1' && failFirst) {
        failFirst = false;
        return false;
      }
      posted.push(key);
      return true;
    };
    const m1 = sequencer.ticket().admit('chat', 'm1', post('m1'), verdict);
    const m2 = sequencer.ticket().admit('chat', 'm2', post('m2'), verdict);
    expect(await m1).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(posted).toEqual([]);
    // the redelivery of m1 arrives after m2 but is posted before it
    const again = sequencer.ticket().admit('chat', 'm1', post('m1'), verdict);
    expect(await again).toBe(true);
    expect(await m2).toBe(true);
    expect(posted).toEqual(['m1', 'm2']);
  });

  it('lets later messages go ahead once the hold passed (the failed one was dead-lettered)', async () => {
    const sequencer = new ChatSequencer({ holdMs: 2000 });
    const posted: string[] = [];
    const m1 = sequencer.ticket().admit('chat', 'm1', async () => false, verdict);
    const m2 = sequencer.ticket().admit('chat', 'm2', noting(posted, 'm2', true), verdict);
    await m1;
    await vi.advanceTimersByTimeAsync(1999);
    expect(posted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await m2).toBe(true);
    expect(posted).toEqual(['m2']);
  });

  it('on close, cancels what waits (parked or queued) and everything admitted later; running tasks finish', async () => {
    const sequencer = new ChatSequencer({ holdMs: 10_000 });
    const running = controllable();
    const m1 = sequencer.ticket().admit('chat', 'm1', () => running.done, verdict);
    const m2 = sequencer.ticket().admit('chat', 'm2', async () => true, verdict);
    await vi.advanceTimersByTimeAsync(0);
    sequencer.close();
    expect(await m2).toBe(CANCELLED);
    running.finish(true);
    expect(await m1).toBe(true);
    expect(await sequencer.ticket().admit('other', 'm3', async () => true, verdict)).toBe(CANCELLED);
  });

  it('after close, each refused admission still gives up its place, so later tickets are not stuck behind it', async () => {
    const sequencer = new ChatSequencer({ holdMs: 1000 });
    sequencer.close();
    const first = sequencer.ticket();
    const second = sequencer.ticket();
    const third = sequencer.ticket();
    expect(await first.admit('chat', 'm1', async () => true, verdict)).toBe(CANCELLED);
    expect(await second.admit('chat', 'm2', async () => true, verdict)).toBe(CANCELLED);
    expect(await third.admit('other', 'm3', async () => true, verdict)).toBe(CANCELLED);
  });

  it('passes a task failure (rejection) to its caller and moves on', async () => {
    const sequencer = new ChatSequencer({ holdMs: 1000 });
    const m1 = sequencer.ticket().admit('chat', 'm1', () => Promise.reject(new Error('boom')), verdict);
    const m2 = sequencer.ticket().admit('chat', 'm2', async () => true, verdict);
    await expect(m1).rejects.toThrow('boom');
    expect(await m2).toBe(true);
  });
});
