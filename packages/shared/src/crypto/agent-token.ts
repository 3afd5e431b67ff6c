import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { DEFAULT_CLUSTER_ID, MAX_TOKEN_LIFETIME_S, TOKEN_EXPIRY_TOLERANCE_S } from '../protocol.js';
import { type Result, refuse } from '../result.js';
import { signCompactJws } from './compact-jws.js';
import { ALGORITHMS, type PrivateKeyRef, type PublicKeyRef } from './keys.js';
import { checkTokenClaims, type TokenBinding, type TokenFacts } from './token-claims.js';
import { acceptTokenFast } from './token-fast-path.js';

export type { TokenBinding, TokenFacts } from './token-claims.js';

/** Options of {@link createAgentToken}. */
export interface AgentTokenOptions {
  /** `aud`: the cluster id of the servers the agent connects to; default {@link DEFAULT_CLUSTER_ID}. */
  readonly audience?: string;
  /** Lifetime in seconds, capped at {@link MAX_TOKEN_LIFETIME_S}; default 30. */
  readonly lifetimeS?: number;
  /** Clock, ms since the epoch; default `Date.now()`. */
  readonly nowMs?: number;
}

/**
 * Creates the handshake JWT: header `alg`, `kid` = agent id, `typ` JWT; claims `sub`, `aud` (cluster id), a random
 * `jti`, `iat` and `exp` (lifetime ≤ 60 s). Signed on the node:crypto JWS path ({@link signCompactJws}, ES256
 * through the native backend when built): the same standard compact JWT jose's SignJWT makes, at about a third of
 * its CPU, which every agent pays on every (re)connect. Throws a TypeError for a clock or lifetime that is not a
 * finite number, as SignJWT did.
 */
export async function createAgentToken(agentId: string, key: PrivateKeyRef, options: AgentTokenOptions = {}): Promise<string> {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const exp = iat + Math.min(options.lifetimeS ?? 30, MAX_TOKEN_LIFETIME_S);
  if (!Number.isFinite(exp)) throw new TypeError('token times must be finite numbers');
  const claims = { sub: agentId, aud: options.audience ?? DEFAULT_CLUSTER_ID, jti: randomUUID(), iat, exp };
  return signCompactJws(Buffer.from(JSON.stringify(claims)), { alg: ALGORITHMS[key.kind].sign, kid: agentId, typ: 'JWT' }, key);
}

/** Options of {@link verifyAgentToken}. */
export interface VerifyTokenOptions extends Partial<TokenBinding> {
  /** Clock, ms since the epoch; default `Date.now()`. */
  readonly nowMs?: number;
}

/**
 * Verifies a handshake token against the key of the agent its `kid` names, then its time window and binding
 * claims ({@link checkTokenClaims}; audience default {@link DEFAULT_CLUSTER_ID}, no legacy agents by default).
 * Replay of a `jti` is the caller's to check with the returned facts. The signature and JWT checks run on the
 * node:crypto path first ({@link acceptTokenFast}, which only accepts); any token it does not accept goes to jose's
 * `jwtVerify`, so refusals and their reasons are jose's.
 * Refusals: DMR_AUTH_TOKEN_MISSING, DMR_AUTH_TOKEN_INVALID, DMR_AUTH_UNKNOWN_AGENT, DMR_AUTH_TOKEN_WRONG_AUDIENCE,
 * DMR_AUTH_TOKEN_UNBOUND.
 */
export async function verifyAgentToken(
  token: unknown,
  keyOf: (agentId: string) => PublicKeyRef | undefined,
  options: VerifyTokenOptions = {},
): Promise<Result<TokenFacts>> {
  if (typeof token !== 'string' || token.length === 0) return refuse('DMR_AUTH_TOKEN_MISSING', 'auth.token', 'is required');
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return refuse('DMR_AUTH_TOKEN_INVALID', 'auth.token', 'is not a JWT');
  }
  if (typeof kid !== 'string') return refuse('DMR_AUTH_TOKEN_INVALID', 'auth.token', 'header has no kid');
  const key = keyOf(kid);
  if (!key) return refuse('DMR_AUTH_UNKNOWN_AGENT', 'auth.token', `agent ${kid} is not in the registry`);
  const nowMs = options.nowMs ?? Date.now();
  const nowS = Math.floor(nowMs / 1000);
  let payload: Record<string, unknown>;
  try {
    payload =
      acceptTokenFast(token, key, { subject: kid, clockToleranceS: TOKEN_EXPIRY_TOLERANCE_S, nowS }) ??
      (await verifyWithJose(token, kid, key, nowMs));
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'verification failed';
    return refuse('DMR_AUTH_TOKEN_INVALID', 'auth.token', reason);
  }
  const binding = { audience: options.audience ?? DEFAULT_CLUSTER_ID, isLegacy: options.isLegacy ?? (() => false) };
  return checkTokenClaims(kid, payload, binding, nowS);
}

/** jose's `jwtVerify` with the handshake's rules: the path of every refusal (its error `code` becomes the reason). */
async function verifyWithJose(token: string, kid: string, key: PublicKeyRef, nowMs: number): Promise<Record<string, unknown>> {
  const { payload } = await jwtVerify(token, key.key, {
    algorithms: [...ALGORITHMS[key.kind].verify],
    subject: kid,
    requiredClaims: ['iat', 'exp', 'sub'],
    clockTolerance: TOKEN_EXPIRY_TOLERANCE_S,
    currentDate: new Date(nowMs),
  });
  return payload;
}
