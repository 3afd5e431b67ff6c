// Issue 18: re-reads caused by pushes, polls and SIGHUP run one at a time with at most one queued behind, each caller
// is answered by a run that started after its call, and runs are spaced by a least gap. A fake clock drives the gap.
import { type RunClock, RunCoalescer } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

class FakeClock implements RunClock {
  nowMs = 1000;
  readonly timers: Array<{ at: number; callback: () => void; isCancelled: boolean }> = [];

  now(): number {
    return this.nowMs;
  }

  after(delayMs: number, callback: () => void): () => void {
    const timer = { at: this.nowMs + delayMs, callback, isCancelled: false };
    this.timers.push(timer);
    return () => {
      timer.isCancelled = true;
    };
  }

  /** Moves time forward and fires what fell due. */
  advance(ms: number): void {
    this.nowMs += ms;
    for (const timer of this.timers.splice(0)) {
      if (timer.isCancelled) continue;
      if (timer.at <= this.nowMs) timer.callback();
      else this.timers.push(timer);
    }
  }
}

/** A job whose runs the test finishes by hand. */
class ManualJob {
  readonly started: number[] = [];
  readonly #finishers: Array<(value: string) => void> = [];

  constructor(private readonly clock: FakeClock) {}

  readonly run = (): Promise<string> => {
    this.started.push(this.clock.now());
    return new Promise((resolve) => this.#finishers.push(resolve));
  };

  finish(value: string): void {
    this.#finishers.shift()?.(value);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RunCoalescer', () => {
  it('starts at once when idle, queues one run behind a running one, and answers a burst with at most two runs', async () => {
    const clock = new FakeClock();
    const job = new ManualJob(clock);
    const runs = new RunCoalescer(job.run, { clock });
    const first = runs.trigger();
    expect(runs.state).toBe('running');
    const burst = Array.from({ length: 100 }, () => runs.trigger());
    expect(runs.state).toBe('running+queued');
    expect(job.started).toHaveLength(1);
    job.finish('one');
    expect(await first).toBe('one');
    await settle();
    expect(job.started).toHaveLength(2);
    job.finish('two');
    // every trigger of the burst came after the first run started, so the second run answers all of them
    expect(new Set(await Promise.all(burst))).toEqual(new Set(['two']));
    await settle();
    expect(runs.state).toBe('idle');
    expect(job.started).toHaveLength(2);
  });

  it('keeps the least gap between the starts of two runs, and a trigger during the wait joins the waiting run', async () => {
    const clock = new FakeClock();
    const job = new ManualJob(clock);
    const runs = new RunCoalescer(job.run, { clock, minGapMs: 200 });
    const first = runs.trigger();
    job.finish('a');
    await first;
    clock.advance(50);
    const second = runs.trigger();
    const joined = runs.trigger();
    expect(runs.state).toBe('waiting');
    expect(job.started).toEqual([1000]);
    clock.advance(149);
    expect(job.started).toEqual([1000]);
    clock.advance(1);
    expect(job.started).toEqual([1000, 1200]);
    job.finish('b');
    expect([await second, await joined]).toEqual(['b', 'b']);
    // long after the gap, a trigger starts at once again
    clock.advance(10_000);
    const third = runs.trigger();
    expect(job.started).toHaveLength(3);
    job.finish('c');
    expect(await third).toBe('c');
  });

  it('also spaces the queued run: a run that ends early waits out the rest of the gap', async () => {
    const clock = new FakeClock();
    const job = new ManualJob(clock);
    const runs = new RunCoalescer(job.run, { clock, minGapMs: 500 });
    void runs.trigger();
    const queued = runs.trigger();
    clock.advance(100);
    job.finish('a');
    await settle();
    expect(job.started).toEqual([1000]);
    clock.advance(400);
    expect(job.started).toEqual([1000, 1500]);
    job.finish('b');
    expect(await queued).toBe('b');
  });

  it('passes a run failure to its callers and keeps working', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const runs = new RunCoalescer(
      async () => {
        calls++;
        if (calls === 1) throw new Error('fetch failed');
        return calls;
      },
      { clock },
    );
    await expect(runs.trigger()).rejects.toThrow('fetch failed');
    expect(await runs.trigger()).toBe(2);
    const throwing = new RunCoalescer<number>(
      () => {
        throw new Error('sync throw');
      },
      { clock },
    );
    await expect(throwing.trigger()).rejects.toThrow('sync throw');
  });

  it('on stop waits for the run in flight, answers the queued and waiting callers with undefined and starts nothing more', async () => {
    const clock = new FakeClock();
    const job = new ManualJob(clock);
    const runs = new RunCoalescer(job.run, { clock, minGapMs: 100 });
    const inFlight = runs.trigger();
    const queued = runs.trigger();
    const stopped = runs.stop();
    expect(await queued).toBeUndefined();
    job.finish('last');
    await stopped;
    expect(await inFlight).toBe('last');
    expect(runs.state).toBe('stopped');
    expect(await runs.trigger()).toBeUndefined();
    clock.advance(1000);
    expect(job.started).toHaveLength(1);

    const waiting = new RunCoalescer(job.run, { clock, minGapMs: 100 });
    const done = waiting.trigger();
    job.finish('x');
    await done;
    const pending = waiting.trigger();
    expect(waiting.state).toBe('waiting');
    await waiting.stop();
    expect(await pending).toBeUndefined();
    clock.advance(1000);
    expect(job.started).toHaveLength(2);
  });
});
