/** Weight of a newer, smaller sample: after a late turn the delay falls back within a few samples. */
const DECAY = 0.3;

/**
 * How late this process's event loop runs a timer, sampled every `intervalMs` and smoothed. When the agent is
 * CPU-bound, requests wait unread in socket buffers for about this long before any admission check sees them,
 * so it is the one signal of overload the in-flight window cannot give (the window only fills when the server
 * side is the slow part).
 */
export class LoopDelayGauge {
  readonly #intervalMs: number;
  #smoothedMs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs = 20) {
    this.#intervalMs = intervalMs;
  }

  /** Starts sampling (the timer does not keep the process alive). */
  start(): this {
    if (this.#timer) return this;
    let expectedAt = performance.now() + this.#intervalMs;
    const sample = () => {
      const now = performance.now();
      const lateMs = Math.max(0, now - expectedAt);
      // rises at once and falls over a few samples: refusing must start with the first late turn, because every
      // turn spent on admitted work lets more requests pile up unread (smoothing both ways was measured: at 2×
      // overload the accepted p99 was 1.2 s instead of 0.18 s)
      this.#smoothedMs = lateMs >= this.#smoothedMs ? lateMs : this.#smoothedMs * (1 - DECAY) + lateMs * DECAY;
      expectedAt = now + this.#intervalMs;
      this.#timer = setTimeout(sample, this.#intervalMs).unref();
    };
    this.#timer = setTimeout(sample, this.#intervalMs).unref();
    return this;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The smoothed delay, ms. */
  get delayMs(): number {
    return this.#smoothedMs;
  }
}
