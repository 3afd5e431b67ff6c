// Issuing from a CSR by an operator (POST /v1/certificates): the way to rotate a key pair without a token, e.g. when
// the agent's owner sends a new CSR through another channel. The caller's role was checked by the API's guard
// (operator+ for agents, admin for servers and the relay user).

import type { VerifiedCsr } from '../ca/index.js';
import { type CertificateIdentity, type CertOutcome, certRefusal, checkCsrIdentity } from '../domain/index.js';
import type { LifecycleConfig } from './config.js';
import type { Actor, LifecycleTransaction } from './ports.js';
import { issuingTermsFor, type ServerNames } from './profiles.js';
import type { Provisioner, SignGrant } from './provisioner.js';

/** An operator's request: for whom, with which server names (servers only), by whom. */
export interface OperatorRequest {
  readonly identity: CertificateIdentity;
  readonly serverNames?: ServerNames;
  readonly actor: Actor;
}

/** The operator provisioner. Refusals: DMR_CONTROL_NOT_FOUND (no such agent), DMR_CONTROL_CSR_SUBJECT_MISMATCH. */
export function operatorProvisioner(config: LifecycleConfig): Provisioner<OperatorRequest> {
  return {
    type: 'operator',
    async authorize(tx: LifecycleTransaction, request: OperatorRequest, csr: VerifiedCsr): Promise<CertOutcome<SignGrant>> {
      const { identity } = request;
      if (identity.kind === 'agent' && (await tx.agents.get(identity.id)) === undefined) {
        return certRefusal('DMR_CONTROL_NOT_FOUND', `agent ${identity.id} does not exist`, 'subjectId');
      }
      const mismatch = checkCsrIdentity(csr.facts, identity);
      if (mismatch !== undefined) return mismatch;
      const terms = issuingTermsFor(identity, config, request.serverNames);
      return { ok: true, value: { identity, ...terms, actor: request.actor, action: 'certificate.issue' } };
    },
  };
}
