import { type BackoffSettings, backoffDelayMs } from '../backoff.js';

/** A certificate's validity window, in ms since the epoch. */
export interface ValidityWindow {
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/** What the renewal schedule is computed from. */
export interface RenewalInput extends ValidityWindow {
  /** Share of the lifetime after which renewal starts (`DMR_CERT_RENEW_AT_FRACTION`). */
  readonly fraction: number;
  readonly nowMs: number;
  /** Renewal attempts that failed since the certificate came into force (0 = none). */
  readonly failedAttempts?: number;
  /** Jitter source for retries (default `Math.random`). */
  readonly random?: () => number;
}

/**
 * Backoff between failed renewal attempts: from 1 s, doubling, capped at 1 h. A further cap of a quarter of the
 * time left (see {@link nextRenewalAttemptMs}) makes attempts denser as the expiry nears.
 */
export const RENEWAL_RETRY: BackoffSettings = { initialDelayMs: 1000, maxDelayMs: 3_600_000 };
/** Never retry faster than this, however close the expiry. */
const MIN_RETRY_MS = 1000;

/** The moment renewal is due: `notBefore + fraction × lifetime`, ms since the epoch. */
export function renewalDueMs(window: ValidityWindow, fraction: number): number {
  return window.notBeforeMs + Math.floor((window.notAfterMs - window.notBeforeMs) * fraction);
}

/**
 * When to try to renew next, ms since the epoch; undefined once the certificate has expired (renewal over mTLS
 * needs a valid certificate: only a new enrollment helps then). Pure.
 *
 * - before the due point ({@link renewalDueMs}): the due point;
 * - due, no failure yet: now;
 * - after `failedAttempts` failures: now + capped exponential backoff with full jitter ({@link RENEWAL_RETRY}),
 *   at most a quarter of the time left (≥ 1 s) and never past the expiry.
 */
export function nextRenewalAttemptMs(input: RenewalInput): number | undefined {
  const { nowMs, notAfterMs } = input;
  if (nowMs >= notAfterMs) return undefined;
  const dueMs = renewalDueMs(input, input.fraction);
  const failures = input.failedAttempts ?? 0;
  if (failures === 0) return Math.max(dueMs, nowMs);
  const backoffMs = backoffDelayMs(failures - 1, RENEWAL_RETRY, input.random);
  const delayMs = Math.max(MIN_RETRY_MS, Math.min(backoffMs, Math.floor((notAfterMs - nowMs) / 4)));
  const atMs = Math.max(dueMs, nowMs + delayMs);
  return atMs < notAfterMs ? atMs : undefined;
}
