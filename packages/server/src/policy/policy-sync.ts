import { backoffDelayMs, type Logger, RunCoalescer, toDmrError } from '@dmr/shared';
import { Cron } from 'croner';
import type { PolicyPoint } from './policy-point.js';
import type { PolicySource } from './policy-source.js';

/** What one sync did, for tests and logs. */
export type PolicySyncResult = 'applied' | 'unchanged' | 'refused' | 'failed' | 'kept';

/** Least time between the starts of two reads, ms: the registry's rule, so a flood of announcements costs little. */
const MIN_READ_GAP_MS = 200;

/**
 * Keeps the policy in force current (docs/policy.md "Lifecycle"): reads the source at start, on `policy`
 * announcements (through the control sync), and on the registry's schedule (CENTOPS_CONFIGURATION_CRON_TIME); at
 * most one read in flight and one queued. A document identical to the last one read is not compiled again. Until
 * the first read succeeds it retries on a short backoff (the server is not ready and refuses messages meanwhile).
 */
export class PolicySync {
  readonly #reads = new RunCoalescer(() => this.#sync(), { minGapMs: MIN_READ_GAP_MS });
  #cron: Cron | undefined;
  #bootRetry: NodeJS.Timeout | undefined;
  #bootAttempt = 0;
  #lastFingerprint: string | undefined;
  #isStopped = false;

  constructor(
    private readonly source: PolicySource,
    private readonly point: PolicyPoint,
    private readonly cronTime: string,
    private readonly log: Logger,
  ) {}

  /** First read, then the schedule. Never throws: a failed first read leaves the server not ready and is retried. */
  async start(): Promise<void> {
    this.#cron = new Cron(this.cronTime, { protect: true }, () => this.sync().then(() => undefined));
    await this.sync();
  }

  /** Reads and applies the latest policy in a read that starts after this call. Never rejects. */
  async sync(): Promise<PolicySyncResult> {
    return (await this.#reads.trigger()) ?? 'failed';
  }

  /** {@link PolicySync.sync} for the control sync: true when the source was read (whatever became of the document). */
  async refresh(): Promise<boolean> {
    return (await this.sync()) !== 'failed';
  }

  /** Stops the schedule and waits for a read in flight. Idempotent. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#cron?.stop();
    clearTimeout(this.#bootRetry);
    await this.#reads.stop();
  }

  async #sync(): Promise<PolicySyncResult> {
    let result: PolicySyncResult;
    try {
      result = await this.#readAndApply();
    } catch (error) {
      const failure = toDmrError(error, 'DMR_POLICY_FETCH_FAILED');
      this.point.recordFailure(failure, this.source.origin);
      // unreadable bytes (not UTF-8 JSON) are a refused document, not a read that may succeed on retry
      result = failure.code === 'DMR_POLICY_INVALID' ? 'refused' : 'failed';
    }
    if (!this.point.isLoaded && !this.#isStopped) this.#scheduleBootRetry();
    return result;
  }

  async #readAndApply(): Promise<PolicySyncResult> {
    const read = await this.source.read();
    if (read.fingerprint === this.#lastFingerprint && this.point.isLoaded) return 'unchanged';
    this.#lastFingerprint = read.fingerprint;
    if (read.kind === 'none' && this.point.version > 0) {
      // versions are never deleted: a control plane that lost them must not open every path by accident
      this.log.warn(
        { origin: this.source.origin, policyVersion: this.point.version },
        'the source holds no policy; the one in force stays',
      );
      return 'kept';
    }
    const isApplied = await this.point.apply(read.kind === 'none' ? undefined : read.data, this.source.origin);
    return isApplied ? 'applied' : 'refused';
  }

  #scheduleBootRetry(): void {
    clearTimeout(this.#bootRetry);
    const delayMs = backoffDelayMs(this.#bootAttempt++, { initialDelayMs: 1000, maxDelayMs: 30_000 });
    this.#bootRetry = setTimeout(() => void this.sync(), delayMs);
    this.#bootRetry.unref();
  }
}
