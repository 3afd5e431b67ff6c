// Issue 18: when a certificate is renewed (pure maths, no timers).
import { nextRenewalAttemptMs, RENEWAL_RETRY, renewalDueMs } from '@dmr/shared/certs';
import { describe, expect, it } from 'vitest';

const DAY_MS = 86_400_000;
const notBeforeMs = Date.parse('2026-01-01T00:00:00Z');
const notAfterMs = notBeforeMs + 90 * DAY_MS;
const window = { notBeforeMs, notAfterMs };

describe('renewal schedule', () => {
  it('is due at notBefore + fraction × lifetime (two thirds of 90 days = day 60)', () => {
    expect(renewalDueMs(window, 0.6667)).toBe(notBeforeMs + Math.floor(90 * DAY_MS * 0.6667));
    expect(renewalDueMs(window, 0.5)).toBe(notBeforeMs + 45 * DAY_MS);
    expect(renewalDueMs(window, 0.1)).toBe(notBeforeMs + 9 * DAY_MS);
  });

  it('waits for the due point before it, and answers now once it has passed', () => {
    const dueMs = renewalDueMs(window, 0.5);
    expect(nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs: notBeforeMs + DAY_MS })).toBe(dueMs);
    expect(nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs: dueMs })).toBe(dueMs);
    const late = dueMs + 10 * DAY_MS;
    expect(nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs: late })).toBe(late);
  });

  it('answers undefined once the certificate has expired (renewal over mTLS is impossible then)', () => {
    expect(nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs: notAfterMs })).toBeUndefined();
    expect(nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs: notAfterMs + 1, failedAttempts: 3 })).toBeUndefined();
  });

  it('backs off exponentially with jitter after failures, capped at one hour', () => {
    const nowMs = renewalDueMs(window, 0.5);
    const at = (failedAttempts: number, random: () => number) =>
      (nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs, failedAttempts, random }) as number) - nowMs;
    expect(at(1, () => 1)).toBe(RENEWAL_RETRY.initialDelayMs);
    expect(at(2, () => 1)).toBe(2 * RENEWAL_RETRY.initialDelayMs);
    expect(at(5, () => 1)).toBe(16 * RENEWAL_RETRY.initialDelayMs);
    expect(at(30, () => 1)).toBe(RENEWAL_RETRY.maxDelayMs);
    // full jitter from half the first delay (500 ms) up: the 1 s floor of every retry lifts the lowest draw
    expect(at(30, () => 0)).toBe(1000);
    const spread = new Set([0.1, 0.4, 0.9].map((r) => at(20, () => r)));
    expect(spread.size).toBe(3);
  });

  it('retries more densely as the expiry nears: at most a quarter of the time left, at least 1 s', () => {
    const nowMs = notAfterMs - 60_000;
    const next = nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs, failedAttempts: 30, random: () => 1 }) as number;
    expect(next - nowMs).toBe(15_000);
    const close = notAfterMs - 2_000;
    expect((nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs: close, failedAttempts: 30, random: () => 1 }) as number) - close).toBe(
      1000,
    );
    // a retry that would land at or after the expiry is no retry
    const last = notAfterMs - 900;
    expect(nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs: last, failedAttempts: 1, random: () => 1 })).toBeUndefined();
  });

  it('never plans a retry before the due point (a failure logged early keeps the schedule)', () => {
    const nowMs = notBeforeMs + DAY_MS;
    expect(nextRenewalAttemptMs({ ...window, fraction: 0.5, nowMs, failedAttempts: 2, random: () => 1 })).toBe(renewalDueMs(window, 0.5));
  });
});
