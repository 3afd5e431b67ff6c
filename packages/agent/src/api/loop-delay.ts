/** Weight of a newer, smaller sample: after a late turn the delay falls back within a few samples. */
const DECAY = 0.3;

/** Settings of a {@link LoopDelayGauge}. */
export interface LoopDelayGaugeSettings {
  /** How often the timer samples while the gauge is in use, ms. */
  readonly intervalMs?: number;
  /** Sampling pauses once nobody has read the gauge for this long and the loop ran on time, ms. */
  readonly idleAfterMs?: number;
  /** The clock, ms (default `performance.now`); tests pass their own to make the loop late without waiting. */
  readonly now?: () => number;
}

/**
 * How late this process's event loop runs a timer, sampled every `intervalMs` and smoothed. When the agent is
 * CPU-bound, requests wait unread in socket buffers for about this long before any admission check sees them,
 * so it is the one signal of overload the in-flight window cannot give (the window only fills when the server
 * side is the slow part).
 *
 * The timer runs only while the gauge is read (every request's admission check reads it): an idle agent would
 * otherwise wake 50 times a second for nothing, which measured 0.5 % of a core per idle agent on the bench
 * machine. The first read after a pause sees the value from before it, which is 0: sampling only pauses after a
 * sample found the loop on time.
 */
export class LoopDelayGauge {
  readonly #intervalMs: number;
  readonly #idleAfterMs: number;
  readonly #now: () => number;
  #isStarted = false;
  #smoothedMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #expectedAt = 0;
  #lastReadAt = 0;

  constructor(settings: LoopDelayGaugeSettings = {}) {
    this.#intervalMs = settings.intervalMs ?? 20;
    this.#idleAfterMs = settings.idleAfterMs ?? 1000;
    this.#now = settings.now ?? (() => performance.now());
  }

  /** Enables sampling; the timer starts with the first read (it does not keep the process alive). */
  start(): this {
    this.#isStarted = true;
    return this;
  }

  stop(): void {
    this.#isStarted = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The smoothed delay, ms. Reading it keeps the sampling running for `idleAfterMs` more. */
  read(): number {
    this.#lastReadAt = this.#now();
    if (this.#isStarted && this.#timer === undefined) this.#arm(this.#lastReadAt);
    return this.#smoothedMs;
  }

  /** Whether the sampling timer is running (for tests and diagnostics). */
  get isSampling(): boolean {
    return this.#timer !== undefined;
  }

  #arm(now: number): void {
    this.#expectedAt = now + this.#intervalMs;
    this.#timer = setTimeout(this.#sample, this.#intervalMs).unref();
  }

  readonly #sample = (): void => {
    const now = this.#now();
    const lateMs = Math.max(0, now - this.#expectedAt);
    // rises at once and falls over a few samples: refusing must start with the first late turn, because every
    // turn spent on admitted work lets more requests pile up unread (smoothing both ways was measured: at 2×
    // overload the accepted p99 was 1.2 s instead of 0.18 s)
    this.#smoothedMs = lateMs >= this.#smoothedMs ? lateMs : this.#smoothedMs * (1 - DECAY) + lateMs * DECAY;
    const isOnTime = lateMs < this.#intervalMs;
    if (isOnTime && now - this.#lastReadAt >= this.#idleAfterMs) {
      // unread for a while and the loop on time: pause, and let the next read start from an on-time loop
      this.#smoothedMs = 0;
      this.#timer = undefined;
      return;
    }
    this.#arm(now);
  };
}
