import { type BackoffSettings, backoffDelayMs, DmrError, type Logger, toDmrError } from '@dmr/shared';
import { CancellableSleep } from './cancellable-sleep.js';

/** What the last attempt to apply the policies did. */
export type PolicyState = 'pending' | 'applied' | 'failed';

/** A counter or gauge as the applier uses it (prom-client's satisfy these). */
export interface PolicyMetrics {
  readonly applied: { set(value: number): void };
  readonly failures: { inc(): void };
}

/** Ports of {@link PolicyApplier}. */
export interface PolicyApplierDeps {
  /** One attempt to apply every policy (e.g. {@link applyPoliciesAnywhere}); throws on failure; `signal` aborts it (stop). */
  readonly apply: (signal: AbortSignal) => Promise<void>;
  readonly backoff: BackoffSettings;
  readonly metrics: PolicyMetrics;
  readonly log: Logger;
}

/**
 * Applies DMR's RabbitMQ policies in the background, away from the data path: an AMQP (re)connect never waits
 * for the management API. Failures are logged with DMR_ROUTE_POLICIES_FAILED, counted, shown in readiness
 * (without making the server not-ready: relaying works without them) and retried with capped backoff until one
 * attempt succeeds. {@link PolicyApplier.request} after each connect re-applies them (a reset broker lost them).
 */
export class PolicyApplier {
  #state: PolicyState = 'pending';
  #lastError: DmrError | undefined;
  #loop: Promise<void> | undefined;
  #isRequested = false;
  #isStopped = false;
  readonly #sleep = new CancellableSleep();
  readonly #abort = new AbortController();

  constructor(private readonly deps: PolicyApplierDeps) {
    deps.metrics.applied.set(0);
  }

  /** State of the last attempt. */
  get state(): PolicyState {
    return this.#state;
  }

  /** Readiness detail: `applied`, `pending`, or `failed: <code>: <reason>`. */
  describe(): string {
    if (this.#state !== 'failed' || !this.#lastError) return this.#state;
    return `failed: ${this.#lastError.code}: ${this.#lastError.message.slice(0, 200)}`;
  }

  /** Applies the policies soon (again), retrying until it works. Returns at once; never throws. */
  request(): void {
    if (this.#isStopped) return;
    this.#isRequested = true;
    this.#loop ??= this.#run().finally(() => {
      this.#loop = undefined;
    });
  }

  /** Ends the retries (cancels the backoff sleep) and waits for a running attempt. Idempotent. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#sleep.cancel();
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (this.#isRequested && !this.#isStopped) {
      this.#isRequested = false;
      if (await this.#attempt(attempt)) {
        attempt = 0;
        continue;
      }
      // a request during a failed attempt changes nothing: the retry below comes anyway
      this.#isRequested = true;
      await this.#sleep.sleep(backoffDelayMs(attempt++, this.deps.backoff));
    }
  }

  async #attempt(attempt: number): Promise<boolean> {
    try {
      await this.deps.apply(this.#abort.signal);
    } catch (error) {
      if (this.#isStopped) return false;
      const cause = toDmrError(error, 'DMR_ROUTE_POLICIES_FAILED');
      this.#lastError = new DmrError('DMR_ROUTE_POLICIES_FAILED', cause.message, { cause: error });
      this.#state = 'failed';
      this.deps.metrics.applied.set(0);
      this.deps.metrics.failures.inc();
      this.deps.log.error(
        { code: 'DMR_ROUTE_POLICIES_FAILED', reason: cause.message, attempt },
        'RabbitMQ policies not applied; relaying goes on, retrying in the background',
      );
      return false;
    }
    if (this.#state !== 'applied') this.deps.log.info({ attempts: attempt + 1 }, 'RabbitMQ policies applied');
    this.#state = 'applied';
    this.#lastError = undefined;
    this.deps.metrics.applied.set(1);
    return true;
  }
}
