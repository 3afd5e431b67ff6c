import { OldestFirst } from '@dmr/shared';

/**
 * A bounded set of delivered message keys (`senderId:id`) with least-recently-used eviction.
 * Turns at-least-once transport into effectively-once delivery as long as a redelivery arrives
 * within the last `capacity` distinct messages. Pure: no timers, no I/O.
 */
export class DedupWindow {
  readonly #capacity: number;
  // A Map iterates in insertion order, so re-inserting on use makes its first key the least recently used.
  readonly #keys = new Map<string, true>();
  // evicting through one long-lived iterator: a fresh keys().next() per message cost 20–40 µs at the default capacity
  readonly #oldest = new OldestFirst(this.#keys);

  /** @param capacity how many keys to remember (≥ 1). */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  /** True when `key` was remembered and not yet evicted; a hit counts as a use. */
  has(key: string): boolean {
    if (!this.#keys.has(key)) return false;
    this.#keys.delete(key);
    this.#keys.set(key, true);
    return true;
  }

  /** Remembers `key`, evicting the least recently used key when full. */
  remember(key: string): void {
    this.#keys.delete(key);
    this.#keys.set(key, true);
    if (this.#keys.size > this.#capacity) this.#oldest.evict();
  }

  /** Number of remembered keys. */
  get size(): number {
    return this.#keys.size;
  }
}

/** How {@link DeliveryGate.run} handled a key. */
export type GateRun<T> =
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'joined'; readonly result: T }
  | { readonly kind: 'ran'; readonly result: T };

/**
 * Runs each delivery at most once per key: a key already delivered is reported as a duplicate
 * without running, and a key currently in flight joins the running attempt instead of starting
 * a second one (two redeliveries racing must never post twice). A key is remembered only when
 * `isSuccess` says so, and before it leaves the in-flight map, so no arrival can slip between the two.
 */
export class DeliveryGate<T> {
  readonly #window: DedupWindow;
  readonly #isSuccess: (result: T) => boolean;
  readonly #inflight = new Map<string, Promise<T>>();

  constructor(window: DedupWindow, isSuccess: (result: T) => boolean) {
    this.#window = window;
    this.#isSuccess = isSuccess;
  }

  /** Runs `task` for `key` unless it was delivered or is in flight. Rejects when `task` rejects. */
  async run(key: string, task: () => Promise<T>): Promise<GateRun<T>> {
    if (this.#window.has(key)) return { kind: 'duplicate' };
    const running = this.#inflight.get(key);
    if (running) return { kind: 'joined', result: await running };
    // Starting through a resolved promise turns a synchronous throw in `task` into a rejection like any other.
    const attempt = Promise.resolve()
      .then(task)
      .then((result) => {
        if (this.#isSuccess(result)) this.#window.remember(key);
        return result;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, attempt);
    return { kind: 'ran', result: await attempt };
  }

  /** Number of deliveries in flight. */
  get inflightCount(): number {
    return this.#inflight.size;
  }

  /** Resolves when nothing is in flight, including deliveries that start while waiting. */
  async drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight.values()]);
  }
}
