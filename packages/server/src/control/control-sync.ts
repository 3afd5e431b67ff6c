import { type ControlAnnouncement, describeErrors, knownKindsOf, type Logger, parseControlAnnouncement, toDmrError } from '@dmr/shared';
import type { Counter } from 'prom-client';
import { isNewerVersion } from '../registry/index.js';

/** What an announcement can make this server re-read (ports; the registry and the certificate guard fit). */
export interface SyncTargets {
  readonly registry: { readonly configVersion: number | undefined; sync(): Promise<unknown> };
  /** Absent without mutual TLS; with it, re-reads DMR_TLS_CRL_URL (or the file) and resolves true on success. */
  readonly crl: { refresh(): Promise<boolean> } | undefined;
  /** Issue 19: re-reads the policy from dmr-control; resolves true when the latest version was read and judged (applied or refused). */
  readonly policy?: { refresh(): Promise<boolean> } | undefined;
}

/** What one announcement asks for. */
export interface AnnouncementPlan {
  readonly registry: boolean;
  readonly crl: boolean;
  readonly policy: boolean;
}

/** The versions an announcement is compared with. */
export interface SyncedVersions {
  /** `configVersion` of the registry in force. */
  readonly registry: number | undefined;
  /** Highest `configVersion` of a `crl` announcement after which the CRLs were read successfully. */
  readonly crl: number | undefined;
  /** Highest `configVersion` of a `policy` announcement after which the policy was read successfully. */
  readonly policy?: number | undefined;
}

/**
 * Which re-reads an announcement asks for. `registry` only when its version is newer than the registry in force (the
 * document carries its version, so an announcement at or below it brings nothing new); `crl` only when newer than the
 * last `crl` announcement acted on successfully (a CRL carries no config version, so the registry's version says nothing
 * about it); `policy` (issue 19) by the same rule as `crl`, against the last `policy` announcement acted on. `peers` is not
 * acted on yet (a later issue); unknown kinds are ignored. Pure.
 */
export function planAnnouncement(
  announcement: Pick<ControlAnnouncement, 'configVersion' | 'kinds'>,
  synced: SyncedVersions,
): AnnouncementPlan {
  const kinds = knownKindsOf(announcement);
  return {
    registry: kinds.includes('registry') && isNewerVersion(announcement.configVersion, synced.registry),
    crl: kinds.includes('crl') && isNewerVersion(announcement.configVersion, synced.crl),
    policy: kinds.includes('policy') && isNewerVersion(announcement.configVersion, synced.policy),
  };
}

/** Outcome of one message on `dmr.control`, the `result` label of `dmr_control_announcements_total`. */
export type AnnouncementOutcome = 'acted' | 'ignored' | 'invalid';

/** ControlSync dependencies. */
export interface ControlSyncDeps {
  readonly log: Logger;
  readonly announcementsTotal: Pick<Counter<'result'>, 'inc'>;
  /** Clock for throttling the log of invalid announcements, ms. */
  readonly now?: () => number;
}

/** At most one log line per this many ms about invalid announcements (each is counted): a flood must not flood the logs. */
const INVALID_LOG_INTERVAL_MS = 10_000;

/**
 * Turns `dmr.control` announcements into re-reads (issue 18): `registry` → the registry now, `crl` → the CRLs now, each
 * coalesced by its target (one fetch in flight, one queued). Announcements are hints: the poll stays the safety net,
 * and {@link ControlSync.catchUp} re-reads both after every (re)binding, since announcements sent meanwhile were lost.
 * Never throws, whatever the message.
 */
export class ControlSync {
  #crlVersion: number | undefined;
  #policyVersion: number | undefined;
  #lastInvalidLogMs = Number.NEGATIVE_INFINITY;
  #suppressedInvalid = 0;

  constructor(
    private readonly targets: SyncTargets,
    private readonly deps: ControlSyncDeps,
  ) {}

  /** Handles one message body from `dmr.control`; returns what became of it. */
  handle(body: Buffer): AnnouncementOutcome {
    const parsed = parseControlAnnouncement(body);
    if (!parsed.ok) {
      this.deps.announcementsTotal.inc({ result: 'invalid' });
      this.#logInvalid(describeErrors(parsed.errors));
      return 'invalid';
    }
    const announcement = parsed.value;
    const plan = planAnnouncement(announcement, {
      registry: this.targets.registry.configVersion,
      crl: this.#crlVersion,
      policy: this.#policyVersion,
    });
    const crl = plan.crl ? this.targets.crl : undefined;
    const policy = plan.policy ? this.targets.policy : undefined;
    const outcome: AnnouncementOutcome = plan.registry || crl || policy ? 'acted' : 'ignored';
    this.deps.announcementsTotal.inc({ result: outcome });
    this.deps.log.info({ configVersion: announcement.configVersion, kinds: announcement.kinds, outcome }, 'control plane announcement');
    if (plan.registry) void this.#syncRegistry();
    if (crl) void this.#refreshCrl(crl, announcement.configVersion);
    if (policy) void this.#refreshPolicy(policy, announcement.configVersion);
    return outcome;
  }

  /** Re-reads the registry, the CRLs and the policy (after a binding: announcements sent while unbound were lost). */
  catchUp(): void {
    void this.#syncRegistry();
    if (this.targets.crl) void this.#refreshCrl(this.targets.crl, undefined);
    if (this.targets.policy) void this.#refreshPolicy(this.targets.policy, undefined);
  }

  async #refreshPolicy(policy: NonNullable<SyncTargets['policy']>, version: number | undefined): Promise<void> {
    try {
      const isRead = await policy.refresh();
      if (isRead && version !== undefined && isNewerVersion(version, this.#policyVersion)) this.#policyVersion = version;
    } catch (error) {
      this.deps.log.error({ err: toDmrError(error) }, 'policy read after an announcement failed');
    }
  }

  async #syncRegistry(): Promise<void> {
    try {
      await this.targets.registry.sync();
    } catch (error) {
      this.deps.log.error({ err: toDmrError(error) }, 'registry sync after an announcement failed');
    }
  }

  async #refreshCrl(crl: NonNullable<SyncTargets['crl']>, version: number | undefined): Promise<void> {
    try {
      const isRead = await crl.refresh();
      if (isRead && version !== undefined && isNewerVersion(version, this.#crlVersion)) this.#crlVersion = version;
    } catch (error) {
      this.deps.log.error({ err: toDmrError(error) }, 'CRL refresh after an announcement failed');
    }
  }

  #logInvalid(reason: string): void {
    const now = (this.deps.now ?? Date.now)();
    if (now - this.#lastInvalidLogMs < INVALID_LOG_INTERVAL_MS) {
      this.#suppressedInvalid++;
      return;
    }
    this.deps.log.warn(
      { code: 'DMR_CONTROL_ANNOUNCEMENT_INVALID', reason: reason.slice(0, 500), suppressedSinceLastLine: this.#suppressedInvalid },
      'invalid announcement on dmr.control dropped',
    );
    this.#lastInvalidLogMs = now;
    this.#suppressedInvalid = 0;
  }
}
