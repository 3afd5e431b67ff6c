import { type DmrErrorCode, type Logger, toDmrError } from '@dmr/shared';
import { type PolicyCertificate, type PolicyDecision, policyTime } from '@dmr/shared/policy';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { PolicyData, PolicyEngine } from './policy-engine.js';
import { buildPolicyInput, type DecidedMessage, type PartyAttributes } from './policy-input.js';

/** The policy metrics (docs/policy.md): created with the server's metrics. */
export interface PolicyMetrics {
  readonly decisionsTotal: Counter<'engine' | 'result'>;
  readonly decisionDuration: Histogram<'engine'>;
  readonly version: Gauge;
  readonly loadFailuresTotal: Counter<'code'>;
}

/** The outcome of one decision: the engine's answer, or why it could not give one (the router fails closed). */
export type PolicyVerdict =
  | { readonly ok: true; readonly decision: PolicyDecision }
  | { readonly ok: false; readonly code: 'DMR_POLICY_UNAVAILABLE'; readonly reason: string };

/** `/v1/ready` detail `policy`. */
export interface PolicyReadiness {
  readonly engine: string;
  /** The version in force; 0 with none. */
  readonly version: number;
  /** The last refusal or read failure, until a read succeeds. */
  readonly lastError?: string;
}

/** What the decision point is wired to. */
export interface PolicyPointDeps {
  readonly engine: PolicyEngine;
  readonly attributesOf: (agentId: string) => PartyAttributes;
  readonly metrics: PolicyMetrics;
  readonly log: Logger;
  /** Clock, ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
}

/** How long the log waits before repeating the same engine failure, ms: a dead sidecar must not flood the log. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * The server's one policy decision point (docs/policy.md): builds the input of a validated message, asks the engine
 * and counts and times the answer; and the keeper of which document is in force (its version, its time zone, the
 * last error). Until the first read of a configured source it decides nothing (fail closed). `decide` never rejects.
 */
export class PolicyPoint {
  #version = 0;
  #timeZone = 'UTC';
  #isLoaded: boolean;
  #lastError: string | undefined;
  #lastErrorLogMs = Number.NEGATIVE_INFINITY;
  readonly #allowed: Counter.Internal;
  readonly #denied: Counter.Internal;
  readonly #failed: Counter.Internal;
  readonly #duration: Histogram.Internal<'engine'>;
  readonly #now: () => number;

  /** `hasSource`: a policy source is configured, so nothing is decided before its first read. */
  constructor(
    private readonly deps: PolicyPointDeps,
    hasSource: boolean,
  ) {
    this.#isLoaded = !hasSource;
    const engine = deps.engine.name;
    // label children resolved once: the hot path pays no label lookup
    this.#allowed = deps.metrics.decisionsTotal.labels({ engine, result: 'allow' });
    this.#denied = deps.metrics.decisionsTotal.labels({ engine, result: 'deny' });
    this.#failed = deps.metrics.decisionsTotal.labels({ engine, result: 'error' });
    this.#duration = deps.metrics.decisionDuration.labels({ engine });
    this.#now = deps.now ?? Date.now;
    deps.metrics.version.set(0);
  }

  /** The version in force (0: none). */
  get version(): number {
    return this.#version;
  }

  /** False until the first read of a configured source succeeded (ready and deciding from then on). */
  get isLoaded(): boolean {
    return this.#isLoaded;
  }

  /** The decision of the version in force for `message` from a sender with `certificate`. Never rejects. */
  async decide(message: DecidedMessage, certificate: PolicyCertificate | null): Promise<PolicyVerdict> {
    if (!this.#isLoaded) return this.#fail('no policy has been read yet (the server fails closed until it has)');
    const startedAt = performance.now();
    try {
      const input = buildPolicyInput(message, this.deps.attributesOf, certificate, policyTime(this.#now(), this.#timeZone));
      const decision = await this.deps.engine.decide(input);
      this.#duration.observe((performance.now() - startedAt) / 1000);
      (decision.allow ? this.#allowed : this.#denied).inc();
      return { ok: true, decision };
    } catch (error) {
      this.#duration.observe((performance.now() - startedAt) / 1000);
      return this.#fail(toDmrError(error).message);
    }
  }

  /**
   * Validates and swaps in `data` (undefined: no policy, every message allowed). Resolves true when it is in force;
   * false when the engine refused it (DMR_POLICY_INVALID: logged, counted, kept as `lastError`; the last good stays).
   */
  async apply(data: PolicyData | undefined, origin: string): Promise<boolean> {
    try {
      await this.deps.engine.load(data);
    } catch (error) {
      this.recordFailure(toDmrError(error, 'DMR_POLICY_INVALID'), origin);
      return false;
    }
    const isChange = !this.#isLoaded || (data?.version ?? 0) !== this.#version;
    this.#version = data?.version ?? 0;
    this.#timeZone = timeZoneOf(data);
    this.#isLoaded = true;
    this.#lastError = undefined;
    this.deps.metrics.version.set(this.#version);
    if (isChange) this.deps.log.info({ policyVersion: this.#version, engine: this.deps.engine.name, origin }, 'policy version in force');
    return true;
  }

  /** Records a read that failed or a document refused: logged, counted by code, shown in readiness until a read succeeds. */
  recordFailure(error: { readonly code: DmrErrorCode; readonly message: string }, origin: string): void {
    this.#lastError = `${error.code}: ${error.message}`.slice(0, 1000);
    this.deps.metrics.loadFailuresTotal.inc({ code: error.code });
    this.deps.log.error(
      { code: error.code, reason: error.message, origin, policyVersion: this.#version },
      this.#isLoaded ? 'policy refused; the last good policy stays in force' : 'policy not read; messages are refused until it is',
    );
  }

  /** `/v1/ready` detail `policy`. */
  readiness(): PolicyReadiness {
    const base = { engine: this.deps.engine.name, version: this.#version };
    return this.#lastError === undefined ? base : { ...base, lastError: this.#lastError };
  }

  #fail(reason: string): PolicyVerdict {
    this.#failed.inc();
    const now = this.#now();
    if (now - this.#lastErrorLogMs >= ERROR_LOG_INTERVAL_MS) {
      this.#lastErrorLogMs = now;
      this.deps.log.error(
        { code: 'DMR_POLICY_UNAVAILABLE', reason, engine: this.deps.engine.name },
        'policy engine could not decide; messages refused',
      );
    }
    return { ok: false, code: 'DMR_POLICY_UNAVAILABLE', reason: `the policy could not be decided: ${reason}` };
  }
}

/** The document's `timeZone` (default UTC); the engine has accepted the document, so the member is a valid zone or absent. */
function timeZoneOf(data: PolicyData | undefined): string {
  const zone = (data?.document as { timeZone?: unknown } | undefined)?.timeZone;
  return typeof zone === 'string' && zone !== '' ? zone : 'UTC';
}
