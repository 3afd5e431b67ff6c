// The service's CRL check: every `crlCheckIntervalMs` it re-reads ring.json (a change-over step done on disk takes
// effect without a restart) and signs the CRLs that are due, then announces `crl` once. Lifecycle per conventions
// 10: start/stop idempotent, stop awaits the check in progress, checks never overlap.

import type { Logger } from '@dmr/shared';
import type { LifecycleConfig } from './config.js';
import { type CrlPublisher, SYSTEM_ACTOR } from './crl-publisher.js';
import type { AnnouncementKind, LifecycleStore } from './ports.js';
import type { CaRingHolder } from './ring-holder.js';

/** Dependencies of {@link CrlTimer}. */
export interface CrlTimerDeps {
  readonly store: LifecycleStore;
  readonly ring: CaRingHolder;
  readonly crls: CrlPublisher;
  readonly log: Logger;
  readonly announce: (configVersion: number, kinds: readonly AnnouncementKind[]) => Promise<void>;
  /** Called after a reload changed the set of trusted CAs (the service refreshes its TLS client-CA list). */
  readonly onTrustChanged?: () => void;
}

/** State of the timer. */
export type CrlTimerState = 'idle' | 'running' | 'stopped';

/** See the file comment. */
export class CrlTimer {
  readonly #deps: CrlTimerDeps;
  readonly #intervalMs: number;
  #state: CrlTimerState = 'idle';
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;

  constructor(deps: CrlTimerDeps, config: Pick<LifecycleConfig, 'crlCheckIntervalMs'>) {
    this.#deps = deps;
    this.#intervalMs = config.crlCheckIntervalMs;
  }

  /** The timer's state. */
  get state(): CrlTimerState {
    return this.#state;
  }

  /** Runs the first check and schedules the next ones. Idempotent; a stopped timer stays stopped. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    await this.tick();
    this.#schedule();
  }

  /** Cancels the schedule and waits for a check in progress. Idempotent (one memoised promise). */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopped';
      clearTimeout(this.#timer);
      await this.#inFlight;
    })();
    return this.#stopping;
  }

  /** One check, after any check in progress (checks never overlap). Never throws: failures are logged. */
  tick(): Promise<void> {
    this.#inFlight = this.#inFlight.then(() => this.#check());
    return this.#inFlight;
  }

  /** Runs `step` between checks (never during one): a change-over step through the API and a ring reload never interleave. */
  exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#inFlight.then(step);
    this.#inFlight = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #schedule(): void {
    if (this.#state !== 'running') return;
    this.#timer = setTimeout(() => {
      void this.tick().then(() => this.#schedule());
    }, this.#intervalMs);
    // the control plane's HTTP server keeps the process alive; this timer must not hold it open on its own
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    try {
      const trustChanged = await this.#reloadRing();
      if (trustChanged) this.#deps.onTrustChanged?.();
      const done = await this.#deps.crls.republishDue();
      let configVersion = done.configVersion;
      if (trustChanged && configVersion === undefined) configVersion = await this.#recordRingChange();
      if (done.signed.length > 0) {
        const signed = done.signed.map((crl) => ({ caId: crl.caId, crlNumber: crl.crlNumber, nextUpdate: crl.nextUpdate }));
        this.#deps.log.info({ signed }, 'CRLs republished');
      }
      if (configVersion !== undefined) await this.#deps.announce(configVersion, ['crl']);
    } catch (error) {
      this.#deps.log.error({ err: error }, 'CRL check failed; the CRLs in force stay');
    }
  }

  async #reloadRing(): Promise<boolean> {
    try {
      const reload = await this.#deps.ring.reload();
      if (reload.changed) this.#deps.log.info({ cas: this.#deps.ring.current.ring.cas }, 'CA ring changed');
      return reload.trustChanged;
    } catch (error) {
      this.#deps.log.error({ err: error }, 'ring.json could not be loaded; the CA ring in force stays');
      return false;
    }
  }

  // a CA retired: the bundles shrink although no CRL was signed, so servers must re-fetch
  async #recordRingChange(): Promise<number> {
    return this.#deps.store.transaction(async (tx) => {
      const after = this.#deps.ring.current.ring;
      tx.changes.append({
        actor: SYSTEM_ACTOR,
        action: 'ca-ring.change',
        subjectKind: 'ca-ring',
        subjectId: null,
        after,
        outcome: 'applied',
      });
      return tx.bumpConfigVersion();
    });
  }
}
