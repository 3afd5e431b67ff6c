// Making one-time enrollment tokens (POST /v1/agents/{id}/enrollment-tokens). The token is returned once and only its
// SHA-256 is stored; neither appears in a log line or the change log.

import { type CertOutcome, certRefusal, enrollmentTokenExpiry, hashEnrollmentToken, newEnrollmentToken } from '../domain/index.js';
import type { LifecycleConfig } from './config.js';
import type { Actor, LifecycleDeps } from './ports.js';

/** A token just made: show it to the operator once. */
export interface EnrollmentTokenGrant {
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/**
 * Makes a token for agent `agentId`, valid `enrollmentTokenTtlMs`. Refusal: DMR_CONTROL_NOT_FOUND (field `id`) when
 * the agent does not exist. Tokens do not bump the configVersion (nothing servers read changes).
 *
 * @param random - source of random bytes (tests); default `crypto.randomBytes`.
 */
export async function createEnrollmentToken(
  deps: LifecycleDeps,
  config: Pick<LifecycleConfig, 'enrollmentTokenTtlMs'>,
  actor: Actor,
  agentId: string,
  random?: (size: number) => Uint8Array,
): Promise<CertOutcome<EnrollmentTokenGrant>> {
  const token = newEnrollmentToken(random);
  const expiresAt = enrollmentTokenExpiry(deps.clock.now(), config.enrollmentTokenTtlMs).toISOString();
  const created = await deps.store.transaction(async (tx) => {
    const outcome = await tx.enrollmentTokens.create({
      tokenHash: hashEnrollmentToken(token),
      agentId,
      expiresAt,
      createdBy: actor.subject,
    });
    if (outcome.ok) {
      const after = { agentId, expiresAt, createdBy: actor.subject };
      tx.changes.append({ actor, action: 'enrollment-token.create', subjectKind: 'agent', subjectId: agentId, after, outcome: 'applied' });
    }
    return outcome;
  });
  if (!created.ok) {
    return created.code === 'DMR_CONTROL_NOT_FOUND'
      ? certRefusal('DMR_CONTROL_NOT_FOUND', `agent ${agentId} does not exist`, 'id')
      : certRefusal(created.code, created.message);
  }
  deps.log.info({ agentId, expiresAt, by: actor.subject }, 'enrollment token issued');
  return { ok: true, value: { token, expiresAt } };
}
