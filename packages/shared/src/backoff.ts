/** Capped exponential backoff settings, in milliseconds. */
export interface BackoffSettings {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Delay before retry number `attempt` (0-based): exponential, capped, with "full jitter"
 * so that many agents reconnecting after an outage spread out. `random` is injectable for tests.
 */
export function backoffDelayMs(attempt: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const exponential = settings.initialDelayMs * 2 ** Math.min(attempt, 30);
  const capped = Math.min(settings.maxDelayMs, exponential);
  const floor = Math.min(settings.initialDelayMs, capped) / 2;
  return Math.round(floor + random() * (capped - floor));
}
