/** A sleep that `cancel()` ends at once, so stop() never waits out a backoff delay. */
export class CancellableSleep {
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #isCancelled = false;

  /** Sleeps `ms`, or less if cancelled. */
  sleep(ms: number): Promise<void> {
    if (this.#isCancelled) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }

  /** Ends the current and every future sleep. */
  cancel(): void {
    this.#isCancelled = true;
    clearTimeout(this.#timer);
    this.#wake?.();
  }
}
