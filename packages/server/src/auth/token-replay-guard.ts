import type { DmrErrorCode } from '@dmr/shared';

/** Default number of live token ids remembered per instance (~100 bytes each). */
export const DEFAULT_REPLAY_GUARD_CAPACITY = 100_000;

/** Outcome of {@link TokenReplayGuard.claim}. */
export type ClaimResult = { readonly ok: true } | { readonly ok: false; readonly code: DmrErrorCode; readonly reason: string };

/**
 * Remembers the handshake token ids (`jti`) this instance has accepted until each token's `exp`, so a captured
 * token is refused the second time (DMR_AUTH_TOKEN_REPLAYED). Memory is bounded: entries leave at their expiry,
 * and a full guard refuses new handshakes (DMR_AUTH_REPLAY_GUARD_FULL) rather than forget a live id.
 *
 * Per instance: another server instance has not seen the id. Replay across instances is bounded by the token's
 * 60 s lifetime and, with mutual TLS, by the agent's TLS client key (a captured token alone is not enough).
 */
export class TokenReplayGuard {
  // key → expiry (ms); insertion order ≈ expiry order, since every token lives at most lifetime + skew
  readonly #expiries = new Map<string, number>();

  constructor(private readonly capacity: number = DEFAULT_REPLAY_GUARD_CAPACITY) {}

  /** Number of remembered token ids (metrics, tests). */
  get size(): number {
    return this.#expiries.size;
  }

  /**
   * Records `tokenId` of `agentId` as used until `expiresAtMs` (plus `toleranceMs`, the verifier's expiry tolerance).
   * Refuses a token id already recorded and not yet expired. `nowMs`: clock, ms.
   */
  claim(agentId: string, tokenId: string, expiresAtMs: number, nowMs: number, toleranceMs = 0): ClaimResult {
    const key = `${agentId}\u0000${tokenId}`;
    const known = this.#expiries.get(key);
    if (known !== undefined && known > nowMs) {
      return { ok: false, code: 'DMR_AUTH_TOKEN_REPLAYED', reason: `token ${tokenId} of agent ${agentId} was already used` };
    }
    this.#sweep(nowMs, false);
    if (this.#expiries.size >= this.capacity) this.#sweep(nowMs, true);
    if (this.#expiries.size >= this.capacity) {
      return { ok: false, code: 'DMR_AUTH_REPLAY_GUARD_FULL', reason: `${this.capacity} live token ids remembered; try again shortly` };
    }
    this.#expiries.delete(key);
    this.#expiries.set(key, expiresAtMs + toleranceMs);
    return { ok: true };
  }

  /** Drops expired entries: from the oldest until the first live one, or (`isFull`) all of them. */
  #sweep(nowMs: number, isFull: boolean): void {
    for (const [key, expiresAtMs] of this.#expiries) {
      if (expiresAtMs <= nowMs) this.#expiries.delete(key);
      else if (!isFull) return;
    }
  }
}
