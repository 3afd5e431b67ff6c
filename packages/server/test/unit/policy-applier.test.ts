import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PolicyApplier } from '../../src/amqp/index.js';

const log = pino({ level: 'silent' });

function applier(apply: (signal: AbortSignal) => Promise<void>) {
  const state = { applied: -1, failures: 0 };
  const policies = new PolicyApplier({
    apply,
    backoff: { initialDelayMs: 100, maxDelayMs: 1000 },
    metrics: {
      applied: {
        set: (value: number) => {
          state.applied = value;
        },
      },
      failures: {
        inc: () => {
          state.failures++;
        },
      },
    },
    log,
  });
  return { policies, state };
}

describe('PolicyApplier', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('returns at once, reports each failure, and retries until the management API accepts the policies', async () => {
    let calls = 0;
    const { policies, state } = applier(async () => {
      calls++;
      if (calls <= 2) throw new Error('connect ECONNREFUSED 127.0.0.1:15672');
    });
    expect(policies.request()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(0);
    expect(policies.state).toBe('failed');
    expect(policies.describe()).toMatch(/^failed: DMR_ROUTE_POLICIES_FAILED: connect ECONNREFUSED/);
    expect(state).toEqual({ applied: 0, failures: 1 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(3);
    expect(policies.state).toBe('applied');
    expect(state).toEqual({ applied: 1, failures: 2 });
    await policies.stop();
  });

  it('applies again when asked during an attempt (a reconnect while applying)', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const { policies } = applier(() => {
      calls++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    policies.request();
    policies.request();
    release();
    await vi.advanceTimersByTimeAsync(0);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    expect(policies.state).toBe('applied');
    await policies.stop();
  });

  it('stop() aborts an attempt the management API does not answer, so shutdown does not wait for it', async () => {
    const { policies, state } = applier(
      (signal) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    );
    policies.request();
    await policies.stop();
    expect(policies.state).toBe('pending');
    expect(state.failures).toBe(0);
  });

  it('stop() ends the retries without waiting out the backoff', async () => {
    const { policies } = applier(async () => {
      throw new Error('down');
    });
    policies.request();
    await vi.advanceTimersByTimeAsync(0);
    let isStopped = false;
    const stopping = policies.stop().then(() => {
      isStopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(isStopped).toBe(true);
    await stopping;
  });
});
