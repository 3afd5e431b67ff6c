import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { MAX_TOKEN_LIFETIME_S } from '../protocol.js';
import { type Result, refuse } from '../result.js';
import { ALGORITHMS, type PrivateKeyRef, type PublicKeyRef } from './keys.js';

/** Clock skew tolerated between agent and server, in seconds. */
const CLOCK_TOLERANCE_S = 5;

/** Creates the handshake JWT: header `kid` = agent id, claims `sub`, `iat`, `exp` (lifetime ≤ 60 s). */
export async function createAgentToken(agentId: string, key: PrivateKeyRef, lifetimeS = 30): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHMS[key.kind].sign, kid: agentId, typ: 'JWT' })
    .setSubject(agentId)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.min(lifetimeS, MAX_TOKEN_LIFETIME_S))
    .sign(key.key);
}

/**
 * Verifies a handshake token against the key of the agent its `kid` names.
 * Refusals: DMR_AUTH_TOKEN_MISSING, DMR_AUTH_TOKEN_INVALID, DMR_AUTH_UNKNOWN_AGENT.
 */
export async function verifyAgentToken(
  token: unknown,
  keyOf: (agentId: string) => PublicKeyRef | undefined,
): Promise<Result<{ agentId: string }>> {
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
  try {
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [...ALGORITHMS[key.kind].verify],
      subject: kid,
      requiredClaims: ['iat', 'exp', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > MAX_TOKEN_LIFETIME_S) {
      return refuse('DMR_AUTH_TOKEN_INVALID', 'auth.token', `lifetime exceeds ${MAX_TOKEN_LIFETIME_S} s`);
    }
    return { ok: true, value: { agentId: kid } };
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'verification failed';
    return refuse('DMR_AUTH_TOKEN_INVALID', 'auth.token', reason);
  }
}
