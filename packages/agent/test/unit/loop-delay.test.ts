import { afterEach, describe, expect, it } from 'vitest';
import { LoopDelayGauge } from '../../src/api/index.js';

/** Keeps the event loop busy for `ms`, as a CPU-bound agent's loop looks to its timers. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(5);
  }
}

describe('LoopDelayGauge', () => {
  let gauge: LoopDelayGauge | undefined;
  afterEach(() => gauge?.stop());

  it('does not sample before anyone reads it, so an idle agent sets no timer', async () => {
    gauge = new LoopDelayGauge({ intervalMs: 5, idleAfterMs: 50 }).start();
    await tick(30);
    expect(gauge.isSampling).toBe(false);
    expect(gauge.read()).toBe(0);
    expect(gauge.isSampling).toBe(true);
  });

  it('reports a loop that runs late while it is read, and falls back once the loop is on time', async () => {
    gauge = new LoopDelayGauge({ intervalMs: 5, idleAfterMs: 10_000 }).start();
    gauge.read();
    for (let turn = 0; turn < 3; turn++) {
      spin(60);
      await tick(1);
    }
    expect(gauge.read()).toBeGreaterThan(30);
    await waitFor('the delay to fall back', () => gauge !== undefined && gauge.read() < 5);
  });

  it('pauses once unread for idleAfterMs with the loop on time, and starts again from 0 at the next read', async () => {
    gauge = new LoopDelayGauge({ intervalMs: 5, idleAfterMs: 40 }).start();
    gauge.read();
    spin(60);
    await tick(1);
    await waitFor('sampling to pause', () => gauge !== undefined && !gauge.isSampling);
    expect(gauge.read()).toBe(0);
    expect(gauge.isSampling).toBe(true);
  });

  it('keeps sampling while it is read', async () => {
    gauge = new LoopDelayGauge({ intervalMs: 5, idleAfterMs: 40 }).start();
    for (let reads = 0; reads < 12; reads++) {
      gauge.read();
      await tick(10);
      expect(gauge.isSampling).toBe(true);
    }
  });

  it('never samples when not started, and stops for good on stop()', async () => {
    gauge = new LoopDelayGauge({ intervalMs: 5 });
    gauge.read();
    expect(gauge.isSampling).toBe(false);
    gauge.start().read();
    expect(gauge.isSampling).toBe(true);
    gauge.stop();
    expect(gauge.isSampling).toBe(false);
    expect(gauge.read()).toBe(0);
    expect(gauge.isSampling).toBe(false);
  });
});
