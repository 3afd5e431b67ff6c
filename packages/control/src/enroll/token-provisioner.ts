// Enrollment with a one-time token (POST /v1/enroll): the operator made the token for one agent, server instance or
// the relay user; whoever holds it may have one certificate for that identity, for a key it generated itself. The
// token is consumed only when everything else passed, so a CSR with a typo does not burn it.

import type { VerifiedCsr } from '../ca/index.js';
import {
  type CertificateIdentity,
  type CertOutcome,
  certRefusal,
  checkCsrIdentity,
  describeIdentity,
  hashEnrollmentToken,
  isWellFormedEnrollmentToken,
} from '../domain/index.js';
import type { LifecycleConfig } from './config.js';
import type { Clock, LifecycleTransaction } from './ports.js';
import { issuingTermsFor, type ServerNames } from './profiles.js';
import type { Provisioner, SignGrant } from './provisioner.js';

/** An enrollment request: the token as the operator handed it over. */
export interface TokenRequest {
  readonly token: string;
}

// never says which tokens exist: a malformed token and an unknown one get the same answer
const UNKNOWN_MESSAGE = 'the enrollment token is not valid';

/** A token found in either table: whom it is for, and how to mark it used. */
interface FoundToken {
  readonly identity: CertificateIdentity;
  readonly serverNames: ServerNames;
  readonly expiresAt: string;
  readonly usedAt: string | null;
  readonly consume: () => Promise<CertOutcome<unknown>>;
}

/**
 * The token provisioner. Refusals (field `token` unless said otherwise): DMR_CONTROL_TOKEN_UNKNOWN,
 * DMR_CONTROL_TOKEN_USED, DMR_CONTROL_TOKEN_EXPIRED, DMR_CONTROL_CSR_SUBJECT_MISMATCH (field `csr`; token kept).
 */
export function tokenProvisioner(config: LifecycleConfig, clock: Clock): Provisioner<TokenRequest> {
  return {
    type: 'token',
    async authorize(tx: LifecycleTransaction, request: TokenRequest, csr: VerifiedCsr): Promise<CertOutcome<SignGrant>> {
      const now = clock.now();
      const found = isWellFormedEnrollmentToken(request.token) ? await findToken(tx, hashEnrollmentToken(request.token), now) : undefined;
      const usable = checkToken(found, now);
      if (!usable.ok) return usable;
      const { identity, serverNames } = usable.value;
      const mismatch = checkCsrIdentity(csr.facts, identity);
      if (mismatch !== undefined) return mismatch;
      const consumed = await usable.value.consume();
      if (!consumed.ok) return { ...consumed, field: 'token' };
      const terms = issuingTermsFor(identity, config, serverNames);
      const actor = { subject: describeIdentity(identity), role: 'enrollment-token' };
      return { ok: true, value: { identity, ...terms, actor, action: 'certificate.enroll' } };
    },
  };
}

async function findToken(tx: LifecycleTransaction, tokenHash: string, now: Date): Promise<FoundToken | undefined> {
  const agentToken = await tx.enrollmentTokens.get(tokenHash);
  if (agentToken !== undefined) {
    return {
      identity: { kind: 'agent', id: agentToken.agentId },
      serverNames: { dnsNames: [], ipAddresses: [] },
      expiresAt: agentToken.expiresAt,
      usedAt: agentToken.usedAt,
      consume: () => tx.enrollmentTokens.consume(tokenHash, now),
    };
  }
  const serviceToken = await tx.serviceTokens.get(tokenHash);
  if (serviceToken === undefined) return undefined;
  return {
    identity: { kind: serviceToken.subjectKind, id: serviceToken.subjectId },
    serverNames: { dnsNames: serviceToken.dnsNames, ipAddresses: serviceToken.ipAddresses },
    expiresAt: serviceToken.expiresAt,
    usedAt: serviceToken.usedAt,
    consume: () => tx.serviceTokens.consume(tokenHash, now),
  };
}

// the same checks the store's consume() makes atomically; made first so a refused CSR leaves the token unused
function checkToken(found: FoundToken | undefined, now: Date): CertOutcome<FoundToken> {
  if (found === undefined) return certRefusal('DMR_CONTROL_TOKEN_UNKNOWN', UNKNOWN_MESSAGE, 'token');
  if (found.usedAt !== null) return certRefusal('DMR_CONTROL_TOKEN_USED', 'the enrollment token was already used', 'token');
  if (Date.parse(found.expiresAt) <= now.getTime())
    return certRefusal('DMR_CONTROL_TOKEN_EXPIRED', 'the enrollment token has expired', 'token');
  return { ok: true, value: found };
}
