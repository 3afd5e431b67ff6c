import { describe, expect, it } from 'vitest';
import { DedupWindow, DeliveryGate } from '../../src/delivery/index.js';

/** A promise the test settles by hand, so concurrency is exercised without timers. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('DedupWindow', () => {
  it('remembers keys up to its capacity and evicts the least recently used', () => {
    const window = new DedupWindow(2);
    window.remember('a');
    window.remember('b');
    expect(window.has('a')).toBe(true); // "a" is now the most recently used
    window.remember('c');

    expect(window.has('b')).toBe(false);
    expect(window.has('a')).toBe(true);
    expect(window.has('c')).toBe(true);
    expect(window.size).toBe(2);
  });

  it('keeps evicting in least-recently-used order across many evictions, uses and table compactions', () => {
    // a reference model: an array in use order, oldest first
    const capacity = 50;
    const window = new DedupWindow(capacity);
    const model: string[] = [];
    const touch = (key: string) => {
      const at = model.indexOf(key);
      if (at >= 0) model.splice(at, 1);
      model.push(key);
    };
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let step = 0; step < 20_000; step++) {
      if (random() < 0.2 && model.length > 0) {
        // a use of a remembered key (a duplicate) moves it to the recent end
        const key = model[Math.floor(random() * model.length)] as string;
        expect(window.has(key)).toBe(true);
        touch(key);
      } else if (random() < 0.05 && model.length > 0) {
        // remembering a key again is a use too
        const key = model[Math.floor(random() * model.length)] as string;
        window.remember(key);
        touch(key);
      } else {
        const key = `k${step}`;
        window.remember(key);
        touch(key);
        if (model.length > capacity) model.shift();
      }
      expect(window.size).toBe(model.length);
    }
    for (const key of model) expect(window.has(key)).toBe(true);
    expect(window.has('k0')).toBe(false);
  });

  it('does not grow when a key is remembered twice', () => {
    const window = new DedupWindow(3);
    window.remember('a');
    window.remember('a');
    expect(window.size).toBe(1);
  });

  it('refuses a capacity below one, naming the bad value', () => {
    expect(() => new DedupWindow(0)).toThrow(new RangeError('capacity must be a positive integer, got 0'));
    expect(() => new DedupWindow(1.5)).toThrow(RangeError);
  });

  it('accepts a capacity of one: it remembers the last key only', () => {
    const window = new DedupWindow(1);
    window.remember('a');
    expect(window.has('a')).toBe(true);
    window.remember('b');
    expect([window.has('a'), window.has('b'), window.size]).toEqual([false, true, 1]);
  });
});

describe('DeliveryGate', () => {
  const isOk = (result: string) => result === 'ok';

  it('runs a key once and reports later arrivals as duplicates', async () => {
    const gate = new DeliveryGate(new DedupWindow(10), isOk);
    let runs = 0;
    const task = async () => {
      runs += 1;
      return 'ok';
    };

    expect(await gate.run('s:1', task)).toEqual({ kind: 'ran', result: 'ok' });
    expect(await gate.run('s:1', task)).toEqual({ kind: 'duplicate' });
    expect(runs).toBe(1);
  });

  it('joins an arrival to the attempt in flight instead of running twice', async () => {
    const gate = new DeliveryGate(new DedupWindow(10), isOk);
    const pending = deferred<string>();
    let runs = 0;
    const task = () => {
      runs += 1;
      return pending.promise;
    };
    const first = gate.run('s:1', task);
    const second = gate.run('s:1', task);
    expect(gate.inflightCount).toBe(1);
    pending.resolve('ok');

    expect(await first).toEqual({ kind: 'ran', result: 'ok' });
    expect(await second).toEqual({ kind: 'joined', result: 'ok' });
    expect(runs).toBe(1);
    expect(gate.inflightCount).toBe(0);
  });

  it('does not remember a failed or thrown attempt, so a redelivery runs again', async () => {
    const gate = new DeliveryGate(new DedupWindow(10), isOk);
    expect(await gate.run('s:1', async () => 'failed')).toEqual({ kind: 'ran', result: 'failed' });
    await expect(
      gate.run('s:1', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(gate.inflightCount).toBe(0);
    expect(await gate.run('s:1', async () => 'ok')).toEqual({ kind: 'ran', result: 'ok' });
  });

  it('keys by sender and id: the same id from another sender is a different message', async () => {
    const gate = new DeliveryGate(new DedupWindow(10), isOk);
    await gate.run('a:1', async () => 'ok');
    expect(await gate.run('b:1', async () => 'ok')).toEqual({ kind: 'ran', result: 'ok' });
  });

  it('drain waits for every attempt in flight', async () => {
    const gate = new DeliveryGate(new DedupWindow(10), isOk);
    const pending = deferred<string>();
    const run = gate.run('s:1', () => pending.promise);
    let isDrained = false;
    const draining = gate.drain().then(() => {
      isDrained = true;
    });
    await Promise.resolve();
    expect(isDrained).toBe(false);
    pending.resolve('ok');
    await Promise.all([run, draining]);
    expect(isDrained).toBe(true);
  });

  it('drain lets the event loop run while it waits, so an attempt settled by I/O can finish', async () => {
    // A real attempt ends on a socket event (a macrotask); a drain that only spun on microtasks would starve it.
    const gate = new DeliveryGate(new DedupWindow(10), isOk);
    const run = gate.run('s:1', () => new Promise<string>((resolve) => setImmediate(() => resolve('ok'))));
    await gate.drain();
    expect(gate.inflightCount).toBe(0);
    expect(await run).toEqual({ kind: 'ran', result: 'ok' });
  });
});
