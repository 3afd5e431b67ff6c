import { MAX_TOKEN_LIFETIME_S, TOKEN_CLOCK_SKEW_S } from '../protocol.js';
import { type Result, refuse } from '../result.js';

/** What the verifier expects of a handshake token's claims. */
export interface TokenBinding {
  /** The server's cluster id: the only `aud` accepted. */
  readonly audience: string;
  /** True for agents marked seed-003 legacy (`DMR_LEGACY_AGENT_IDS`): only they may omit `aud` and `jti`. */
  readonly isLegacy: (agentId: string) => boolean;
}

/** The bound facts of an accepted token. `tokenId` is absent only for a legacy token without `jti`. */
export interface TokenFacts {
  readonly agentId: string;
  readonly tokenId?: string;
  /** `exp`, seconds since the epoch: the token id must be remembered until then. */
  readonly expiresAtS: number;
}

const MAX_TOKEN_ID_LENGTH = 128;

/**
 * Checks the time window and binding claims of a token whose signature, `sub` and expiry are already verified.
 * Rules: `iat` at most {@link TOKEN_CLOCK_SKEW_S} in the future; `exp - iat` ≤ {@link MAX_TOKEN_LIFETIME_S};
 * `exp` at most lifetime + skew from now; `aud` equal to the server's audience; a `jti` of 1–128 characters.
 * `aud` and `jti` may be absent only for legacy agents (seed 003 sends neither); a wrong `aud` is refused for everyone.
 * Refusals: DMR_AUTH_TOKEN_INVALID (times, malformed claims), DMR_AUTH_TOKEN_WRONG_AUDIENCE, DMR_AUTH_TOKEN_UNBOUND.
 */
export function checkTokenClaims(
  agentId: string,
  payload: Readonly<Record<string, unknown>>,
  binding: TokenBinding,
  nowS: number,
): Result<TokenFacts> {
  const { iat, exp, aud, jti } = payload;
  if (typeof iat !== 'number' || typeof exp !== 'number') return invalid('iat and exp must be numbers');
  if (iat > nowS + TOKEN_CLOCK_SKEW_S) return invalid(`iat is more than ${TOKEN_CLOCK_SKEW_S} s in the future`);
  if (exp - iat > MAX_TOKEN_LIFETIME_S) return invalid(`lifetime exceeds ${MAX_TOKEN_LIFETIME_S} s`);
  if (exp > nowS + MAX_TOKEN_LIFETIME_S + TOKEN_CLOCK_SKEW_S) return invalid(`exp is more than ${MAX_TOKEN_LIFETIME_S} s ahead`);
  const isLegacy = binding.isLegacy(agentId);
  if (aud === undefined) {
    if (!isLegacy) return refuse('DMR_AUTH_TOKEN_UNBOUND', 'auth.token', 'aud is required (the server cluster id)');
  } else if (!isAudience(aud, binding.audience)) {
    return refuse('DMR_AUTH_TOKEN_WRONG_AUDIENCE', 'auth.token', `aud is not this cluster (${binding.audience})`);
  }
  if (jti === undefined) {
    if (!isLegacy) return refuse('DMR_AUTH_TOKEN_UNBOUND', 'auth.token', 'jti is required');
    return { ok: true, value: { agentId, expiresAtS: exp } };
  }
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_TOKEN_ID_LENGTH) {
    return invalid(`jti must be a string of 1 to ${MAX_TOKEN_ID_LENGTH} characters`);
  }
  return { ok: true, value: { agentId, tokenId: jti, expiresAtS: exp } };
}

// RFC 7519: aud is a string or an array of strings; one of them must name this server
function isAudience(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.length > 0 && aud.length <= 8 && aud.includes(expected));
}

function invalid(message: string) {
  return refuse('DMR_AUTH_TOKEN_INVALID', 'auth.token', message);
}
