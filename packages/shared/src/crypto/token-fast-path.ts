import { verifyCompactJws } from './compact-jws.js';
import { ALGORITHMS, type PublicKeyRef } from './keys.js';

/** What {@link acceptTokenFast} checks besides the signature: the same options verifyAgentToken gives jose's `jwtVerify`. */
export interface FastTokenCheck {
  /** The header's `kid`: `sub` must equal it. */
  readonly subject: string;
  /** Seconds of tolerance on `exp` and `nbf` (jose's `clockTolerance`). */
  readonly clockToleranceS: number;
  /** Clock, seconds since the epoch (jose's `currentDate`, floored). */
  readonly nowS: number;
}

// jose decodes the claims set with a fatal decoder: a claims set that is not valid UTF-8 is refused, not repaired
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The handshake token's claims when its signature verifies on the node:crypto JWS path ({@link verifyCompactJws},
 * about half the CPU of jose's WebCrypto path, which imports the key again on every call) AND it passes every check
 * `jwtVerify` would make with verifyAgentToken's options: a JSON object claims set; `iat`, `exp` and `sub` present;
 * `sub` equal to `kid`; `iat`, `nbf` and `exp` numbers when present; `nbf` not after now + tolerance; `exp` after
 * now − tolerance. Returns undefined otherwise, for ANY reason (bad signature, a header member the fast path does not
 * handle such as `crit` or `b64`, a failed claim): the caller then asks jose, so every refusal, and its reason, stays
 * jose's. This path only ever accepts what jose accepts; the binding rules (checkTokenClaims) apply after either.
 */
export function acceptTokenFast(token: string, key: PublicKeyRef, check: FastTokenCheck): Record<string, unknown> | undefined {
  let claims: unknown;
  try {
    claims = JSON.parse(STRICT_UTF8.decode(verifyCompactJws(token, key, ALGORITHMS[key.kind].verify)));
  } catch {
    return undefined;
  }
  // jose wants a top-level object; the `sub` rule below refuses every other JSON value as well, null must not be read
  // Stryker disable next-line ConditionalExpression,LogicalOperator: a string, number or array has no `sub` equal to the kid
  if (typeof claims !== 'object' || claims === null) return undefined;
  const record = claims as Record<string, unknown>;
  return passesJwtChecks(record, check) ? record : undefined;
}

/**
 * jose's `validateClaimsSet` for verifyAgentToken's options (no typ, iss, aud or maxTokenAge there). Its presence
 * rule (`iat`, `exp`, `sub`) is implied: `sub` must equal the kid, `iat` and `exp` must be numbers.
 */
function passesJwtChecks(claims: Record<string, unknown>, check: FastTokenCheck): boolean {
  const { sub, iat, nbf, exp } = claims;
  if (sub !== check.subject || typeof iat !== 'number' || typeof exp !== 'number') return false;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > check.nowS + check.clockToleranceS)) return false;
  return exp > check.nowS - check.clockToleranceS;
}
