// The gauge runs on vitest's fake timers and a clock the test moves: a "late loop" is the clock jumping while no
// timer could run, so every value below is exact and nothing depends on how busy the machine is.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LoopDelayGauge, type LoopDelayGaugeSettings } from '../../src/api/index.js';

/** Time the event loop spent busy, on top of the fake timers' clock. */
let busyMs = 0;
const now = () => Date.now() + busyMs;

/** The loop is busy for `ms` (no timer runs meanwhile), then runs the timers that came due. */
function busy(ms: number): void {
  busyMs += ms;
  vi.runOnlyPendingTimers();
}

/** The loop is idle for `ms`: every timer runs exactly when it is due. */
const onTime = (ms: number) => vi.advanceTimersByTime(ms);

describe('LoopDelayGauge', () => {
  let gauge: LoopDelayGauge | undefined;
  const make = (settings: LoopDelayGaugeSettings) => new LoopDelayGauge({ ...settings, now });

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    busyMs = 0;
  });

  afterEach(() => {
    gauge?.stop();
    vi.useRealTimers();
  });

  it('does not sample before anyone reads it, so an idle agent sets no timer', () => {
    gauge = make({ intervalMs: 5, idleAfterMs: 50 }).start();
    onTime(30);
    expect(vi.getTimerCount()).toBe(0);
    expect(gauge.isSampling).toBe(false);
    expect(gauge.read()).toBe(0);
    expect(gauge.isSampling).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('reports a loop that runs late while it is read, and falls back once the loop is on time', () => {
    gauge = make({ intervalMs: 5, idleAfterMs: 10_000 }).start();
    gauge.read();
    for (let turn = 0; turn < 3; turn++) busy(60);
    expect(gauge.read()).toBe(60);
    // each on-time sample keeps 70 % of the last value: 60 × 0.7^6 ≈ 7.1, 60 × 0.7^7 ≈ 4.9
    onTime(30);
    expect(gauge.read()).toBeCloseTo(60 * 0.7 ** 6, 6);
    onTime(5);
    expect(gauge.read()).toBeLessThan(5);
    // a late turn counts at once, in full
    busy(20);
    expect(gauge.read()).toBe(20);
  });

  it('pauses once unread for idleAfterMs with the loop on time, and starts again from 0 at the next read', () => {
    gauge = make({ intervalMs: 5, idleAfterMs: 40 }).start();
    gauge.read();
    onTime(35);
    expect(gauge.isSampling, 'unread for 35 ms of 40').toBe(true);
    busy(60);
    expect(gauge.isSampling, 'unread long enough, but the loop ran late').toBe(true);
    expect(gauge.read()).toBe(60);
    onTime(40);
    expect(gauge.isSampling, 'read 40 ms ago and the loop on time').toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(gauge.read()).toBe(0);
    expect(gauge.isSampling).toBe(true);
  });

  it('keeps sampling while it is read, and pauses once the reads stop', () => {
    gauge = make({ intervalMs: 5, idleAfterMs: 40 }).start();
    for (let reads = 0; reads < 12; reads++) {
      gauge.read();
      onTime(10);
      expect(gauge.isSampling).toBe(true);
    }
    onTime(40);
    expect(gauge.isSampling).toBe(false);
  });

  it('never samples when not started, and stops for good on stop()', () => {
    gauge = make({ intervalMs: 5 });
    gauge.read();
    expect(gauge.isSampling).toBe(false);
    gauge.start().read();
    expect(gauge.isSampling).toBe(true);
    gauge.stop();
    expect(gauge.isSampling).toBe(false);
    expect(gauge.read()).toBe(0);
    expect(gauge.isSampling).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
