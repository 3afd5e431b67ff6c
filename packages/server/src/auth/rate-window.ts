import { OldestFirst } from '@dmr/shared';

/** Keys remembered at most; beyond it the oldest window is forgotten (an attacker's many addresses cannot grow the map without bound). */
const DEFAULT_MAX_KEYS = 100_000;

interface Window {
  startedAt: number;
  count: number;
}

/**
 * A fixed-window counter per key (agent id, remote address): at most `limit` hits per `windowMs`. Pure: the clock
 * is passed in, so the limit is unit-tested exactly. A limit of 0 never refuses.
 */
export class RateWindow {
  readonly #windows = new Map<string, Window>();
  readonly #evictor = new OldestFirst(this.#windows);

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys: number = DEFAULT_MAX_KEYS,
  ) {}

  /** Counts one hit for `key`; false (and not counted) when the key already used its `limit` in this window. */
  hit(key: string): boolean {
    if (this.limit === 0) return true;
    const window = this.#current(key);
    if (window.count >= this.limit) return false;
    window.count++;
    return true;
  }

  /** True when `key` used its whole `limit` in this window (without counting a hit). */
  isExhausted(key: string): boolean {
    if (this.limit === 0) return false;
    const window = this.#windows.get(key);
    return window !== undefined && this.now() - window.startedAt < this.windowMs && window.count >= this.limit;
  }

  /** Milliseconds until `key`'s window ends (0 when it has none). */
  retryAfterMs(key: string): number {
    const window = this.#windows.get(key);
    return window ? Math.max(0, window.startedAt + this.windowMs - this.now()) : 0;
  }

  #current(key: string): Window {
    const now = this.now();
    let window = this.#windows.get(key);
    if (!window || now - window.startedAt >= this.windowMs) {
      // re-inserted, so the Map's order (what OldestFirst evicts by) follows each key's window start
      this.#windows.delete(key);
      window = { startedAt: now, count: 0 };
      this.#windows.set(key, window);
      while (this.#windows.size > this.maxKeys) this.#evictor.evict();
    }
    return window;
  }
}
