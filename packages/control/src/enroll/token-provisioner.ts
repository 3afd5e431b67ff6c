// Enrollment with a one-time token (POST /v1/enroll): the operator made the token for one agent; whoever holds it
// may have one certificate for that agent, for a key it generated itself. The token is consumed only when
// everything else passed, so a CSR with a typo does not burn it.

import type { VerifiedCsr } from '../ca/index.js';
import {
  type CertificateIdentity,
  type CertOutcome,
  certRefusal,
  checkCsrIdentity,
  hashEnrollmentToken,
  isWellFormedEnrollmentToken,
} from '../domain/index.js';
import type { EnrollmentTokenRecord } from '../store/index.js';
import type { LifecycleConfig } from './config.js';
import type { Clock, LifecycleTransaction } from './ports.js';
import { issuingTermsFor } from './profiles.js';
import type { Provisioner, SignGrant } from './provisioner.js';

/** An enrollment request: the token as the operator handed it over. */
export interface TokenRequest {
  readonly token: string;
}

// never says which tokens exist: a malformed token and an unknown one get the same answer
const UNKNOWN_MESSAGE = 'the enrollment token is not valid';

/**
 * The token provisioner. Refusals (field `token` unless said otherwise): DMR_CONTROL_TOKEN_UNKNOWN,
 * DMR_CONTROL_TOKEN_USED, DMR_CONTROL_TOKEN_EXPIRED, DMR_CONTROL_CSR_SUBJECT_MISMATCH (field `csr`; token kept).
 */
export function tokenProvisioner(config: LifecycleConfig, clock: Clock): Provisioner<TokenRequest> {
  return {
    type: 'token',
    async authorize(tx: LifecycleTransaction, request: TokenRequest, csr: VerifiedCsr): Promise<CertOutcome<SignGrant>> {
      if (!isWellFormedEnrollmentToken(request.token)) return certRefusal('DMR_CONTROL_TOKEN_UNKNOWN', UNKNOWN_MESSAGE, 'token');
      const tokenHash = hashEnrollmentToken(request.token);
      const now = clock.now();
      const usable = checkToken(await tx.enrollmentTokens.get(tokenHash), now);
      if (!usable.ok) return usable;
      const identity: CertificateIdentity = { kind: 'agent', id: usable.value.agentId };
      const mismatch = checkCsrIdentity(csr.facts, identity);
      if (mismatch !== undefined) return mismatch;
      const consumed = await tx.enrollmentTokens.consume(tokenHash, now);
      if (!consumed.ok) return { ...consumed, field: 'token' };
      const terms = issuingTermsFor(identity, config);
      return {
        ok: true,
        value: { identity, ...terms, actor: { subject: `agent:${identity.id}`, role: 'enrollment-token' }, action: 'certificate.enroll' },
      };
    },
  };
}

// the same checks the store's consume() makes atomically; made first so a refused CSR leaves the token unused
function checkToken(record: EnrollmentTokenRecord | undefined, now: Date): CertOutcome<EnrollmentTokenRecord> {
  if (record === undefined) return certRefusal('DMR_CONTROL_TOKEN_UNKNOWN', UNKNOWN_MESSAGE, 'token');
  if (record.usedAt !== null) return certRefusal('DMR_CONTROL_TOKEN_USED', 'the enrollment token was already used', 'token');
  if (Date.parse(record.expiresAt) <= now.getTime())
    return certRefusal('DMR_CONTROL_TOKEN_EXPIRED', 'the enrollment token has expired', 'token');
  return { ok: true, value: record };
}
