// When a CA's CRL must be signed again, and the window of a new one. Pure: the clock is a parameter.

/** Default time from a CRL's thisUpdate to its nextUpdate: 7 days (`DMR_CONTROL_CRL_VALIDITY_MS`). */
export const DEFAULT_CRL_VALIDITY_MS = 7 * 86_400_000;
/** Default margin: republish once less than 3.5 days are left before nextUpdate (`DMR_CONTROL_CRL_REPUBLISH_BEFORE_MS`). */
export const DEFAULT_CRL_REPUBLISH_BEFORE_MS = 3.5 * 86_400_000;
/** Default interval of the republish check (`DMR_CONTROL_CRL_CHECK_INTERVAL_MS`): 1 minute. */
export const DEFAULT_CRL_CHECK_INTERVAL_MS = 60_000;
/**
 * thisUpdate is this far in the past, because OpenSSL refuses every client while a CRL is "not yet valid" on a
 * server whose clock is behind (the same allowance as a certificate's notBefore).
 */
export const CRL_CLOCK_SKEW_MS = 5 * 60_000;

/** The window of one CRL. */
export interface CrlTimes {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/** The window of a CRL signed at `now`: thisUpdate backdated by {@link CRL_CLOCK_SKEW_MS}, nextUpdate `validityMs` on. */
export function crlWindowAt(now: Date, validityMs: number): CrlTimes {
  return { thisUpdate: new Date(now.getTime() - CRL_CLOCK_SKEW_MS), nextUpdate: new Date(now.getTime() + validityMs) };
}

/**
 * True when a CA needs a new CRL at `now`: it has none yet, or less than `republishBeforeMs` is left before the
 * latest one's nextUpdate (servers refuse every client once it has passed).
 */
export function isCrlDue(latest: { readonly nextUpdate: Date } | undefined, now: Date, republishBeforeMs: number): boolean {
  return latest === undefined || latest.nextUpdate.getTime() - now.getTime() < republishBeforeMs;
}
