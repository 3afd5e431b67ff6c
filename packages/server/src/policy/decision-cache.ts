import type { PolicyDecision, PolicyInput } from '@dmr/shared/policy';

/**
 * A bounded LRU of policy decisions for the OPA sidecar engine (docs/policy.md "OPA sidecar"). Keyed by the input
 * fields that decide: the sender and recipient (id, institution and registry groups, so a registry change cannot
 * serve a stale membership), the message type, the weekday and the minute of day. Every entry carries the
 * policyVersion that decided it; the whole cache is dropped when OPA answers with another version. Pure: no I/O.
 */
export class DecisionCache {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, PolicyDecision>();
  #version: number | undefined;
  /** The version the server loaded last: OPA answers of older versions (its bundle poll lags) are not cached. */
  #minVersion = 0;
  /** Bumped by `clear()`: an answer to a request started before a clear is not stored. */
  #generation = 0;

  /** `maxEntries` 0 turns the cache off. */
  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError(`cache size must be an integer >= 0, got ${maxEntries}`);
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get generation(): number {
    return this.#generation;
  }

  /** The cached decision for this input, refreshed as most recently used. */
  get(key: string): PolicyDecision | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit;
  }

  /**
   * Stores an answer OPA gave for a request started at `generation`. An answer of another policyVersion than the
   * cached entries carry drops them all first (the bundle changed under us).
   */
  put(key: string, decision: PolicyDecision, generation: number): void {
    if (this.#maxEntries === 0 || generation !== this.#generation || decision.policyVersion < this.#minVersion) return;
    if (this.#version !== undefined && decision.policyVersion !== this.#version) this.clear();
    this.#version = decision.policyVersion;
    this.#entries.delete(key);
    this.#entries.set(key, decision);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  /**
   * Drops every entry and, from now on, caches only answers of `version` or later: OPA polls its bundle, so it may
   * answer with the previous version for a while after the server learnt of a new one.
   */
  expectVersion(version: number): void {
    this.clear();
    this.#minVersion = version;
  }

  /** Drops every entry; answers to requests already in flight are not stored either. */
  clear(): void {
    this.#entries.clear();
    this.#version = undefined;
    this.#generation += 1;
  }
}

/** The cache key of an input: every field a rule can read except the certificate and the exact instant. */
export function decisionCacheKey(input: PolicyInput): string {
  const { sender, recipient, message, time } = input;
  return JSON.stringify([
    sender.id,
    sender.institution,
    sender.groups,
    recipient.id,
    recipient.institution,
    recipient.groups,
    message.type,
    time.weekday,
    time.minuteOfDay,
  ]);
}
