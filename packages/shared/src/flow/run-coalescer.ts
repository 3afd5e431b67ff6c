/**
 * A clock for {@link RunCoalescer}: the time now and a cancellable timer. Injected so the spacing of runs is
 * unit-tested without waiting.
 */
export interface RunClock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
  /** Calls `callback` after `delayMs`; the returned function cancels the call. */
  after(delayMs: number, callback: () => void): () => void;
}

/** The process clock (`Date.now`, `setTimeout`); timers do not keep the process alive. */
export const SYSTEM_RUN_CLOCK: RunClock = {
  now: () => Date.now(),
  after: (delayMs, callback) => {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Options of {@link RunCoalescer}. */
export interface RunCoalescerOptions {
  /** Least time between the starts of two runs, ms (default 0): bounds the rate a flood of triggers can cause. */
  readonly minGapMs?: number;
  readonly clock?: RunClock;
}

/** Where a {@link RunCoalescer} stands. */
export type CoalescerState = 'idle' | 'waiting' | 'running' | 'running+queued' | 'stopped';

interface Waiters<T> {
  readonly promise: Promise<T | undefined>;
  readonly resolve: (value: T | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Runs an idempotent job (a fetch) on demand with at most one run in flight and one queued: a trigger while nothing
 * runs starts a run (after `minGapMs` since the last start); a trigger while one runs queues exactly one more, which
 * every further trigger joins, so a burst of N triggers costs at most two runs, and every trigger is answered by a run
 * that started after it (nothing announced during a fetch is missed). Pure apart from the injected clock.
 */
export class RunCoalescer<T> {
  #next: Waiters<T> | undefined;
  #inFlight: Promise<void> | undefined;
  #cancelWait: (() => void) | undefined;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #isStopped = false;
  readonly #minGapMs: number;
  readonly #clock: RunClock;

  constructor(
    private readonly run: () => Promise<T>,
    options: RunCoalescerOptions = {},
  ) {
    this.#minGapMs = options.minGapMs ?? 0;
    this.#clock = options.clock ?? SYSTEM_RUN_CLOCK;
  }

  /** Where the coalescer stands now. */
  get state(): CoalescerState {
    if (this.#isStopped) return 'stopped';
    if (this.#inFlight) return this.#next ? 'running+queued' : 'running';
    return this.#next ? 'waiting' : 'idle';
  }

  /**
   * Asks for a run that starts after this call. Resolves with that run's result, or undefined when the coalescer was
   * stopped before it started; rejects when that run rejects.
   */
  trigger(): Promise<T | undefined> {
    if (this.#isStopped) return Promise.resolve(undefined);
    const pending = this.#next;
    if (pending) return pending.promise;
    const next = waiters<T>();
    this.#next = next;
    // may start the run at once, which takes `next` out of #next
    if (!this.#inFlight) this.#schedule();
    return next.promise;
  }

  /** No run starts from now on; a queued or waiting one resolves undefined. Resolves once the run in flight ended. Idempotent. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#cancelWait?.();
    this.#cancelWait = undefined;
    this.#next?.resolve(undefined);
    this.#next = undefined;
    await this.#inFlight;
  }

  #schedule(): void {
    const waitMs = this.#lastStartMs + this.#minGapMs - this.#clock.now();
    if (waitMs <= 0) {
      this.#begin();
      return;
    }
    this.#cancelWait = this.#clock.after(waitMs, () => {
      this.#cancelWait = undefined;
      this.#begin();
    });
  }

  #begin(): void {
    const current = this.#next;
    if (this.#isStopped || !current) return;
    this.#next = undefined;
    this.#lastStartMs = this.#clock.now();
    let result: Promise<T>;
    try {
      result = this.run();
    } catch (error) {
      result = Promise.reject(error);
    }
    // the coalescer is idle (or has started the queued run) before its callers hear the result
    this.#inFlight = result.then(
      (value) => {
        this.#finish();
        current.resolve(value);
      },
      (error: unknown) => {
        this.#finish();
        current.reject(error);
      },
    );
  }

  #finish(): void {
    this.#inFlight = undefined;
    // triggers that came while this run was in flight wait for a run of their own
    if (this.#next && !this.#isStopped) this.#schedule();
  }
}

function waiters<T>(): Waiters<T> {
  let resolve: (value: T | undefined) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T | undefined>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}
