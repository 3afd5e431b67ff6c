/** How long a move to a new client certificate waits for the new connection before it gives up and keeps the old one. */
export const SWITCH_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Counts the sends waiting for the server's ack on the current connection, and holds new sends back while the link
 * moves to a new connection (a renewed client certificate, issue 18), so that no send is emitted on a connection about
 * to close: the server answers a send only on the socket it came on, and a closed socket loses the answer.
 */
export class SendGate {
  #inFlight = 0;
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;
  #settled: (() => void) | undefined;

  /** True while new sends wait for {@link SendGate.release}. */
  get isHeld(): boolean {
    return this.#held !== undefined;
  }

  /** Sends emitted and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when the gate is open (at once when it is). */
  whenOpen(): Promise<void> {
    return this.#held ?? Promise.resolve();
  }

  /** Marks one send as emitted; the returned function marks it answered (call it exactly once). */
  enter(): () => void {
    this.#inFlight += 1;
    return () => {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#settled?.();
    };
  }

  /** Holds new sends back until {@link SendGate.release}. */
  hold(): void {
    this.#held ??= new Promise<void>((resolve) => {
      this.#release = resolve;
    });
  }

  /** Lets the held sends go (on whatever connection is current by then). */
  release(): void {
    const release = this.#release;
    this.#held = undefined;
    this.#release = undefined;
    release?.();
  }

  /** Resolves once no send is in flight, or after `timeoutMs` (a send's own ack timeout ends it by then anyway). */
  async settled(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#settled = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    this.#settled = undefined;
  }
}
