// Signing what a provisioner granted, inside its transaction: the certificate is recorded, an agent's registry
// entry points at it, the change log says who and what, and the configVersion is bumped, all or nothing.

import { DmrError } from '@dmr/shared/base';
import { type RingCa, signLeafWith, type VerifiedCsr } from '../ca/index.js';
import type { CertificateRecord } from '../store/index.js';
import type { LifecycleTransaction } from './ports.js';
import type { SignGrant } from './provisioner.js';

/** A certificate issued and committed with its transaction. */
export interface IssuedInTransaction {
  readonly record: CertificateRecord;
  readonly configVersion: number;
}

/**
 * Signs `csr` as `grant` says with `ca`, records the certificate, sets an agent's authenticationCertificate to it,
 * appends the change entries and bumps the configVersion, in `tx`. Throws (rolling the transaction back) when the
 * agent vanished or the serial collides (p ≈ 2^-128): DMR_CONTROL_NOT_FOUND, DMR_INTERNAL_ERROR.
 */
export async function issueInTransaction(
  tx: LifecycleTransaction,
  ca: RingCa,
  grant: SignGrant,
  csr: VerifiedCsr,
  now: Date,
): Promise<IssuedInTransaction> {
  const agentBefore = grant.identity.kind === 'agent' ? await tx.agents.get(grant.identity.id) : undefined;
  if (grant.identity.kind === 'agent' && agentBefore === undefined) {
    throw new DmrError('DMR_CONTROL_NOT_FOUND', `agent ${grant.identity.id} does not exist (deleted meanwhile?)`);
  }
  const signed = await signLeafWith(ca, grant.profile, csr.publicKey, grant.validityDays, now);
  const inserted = await tx.certificates.insert({
    serial: signed.serial,
    caId: ca.entry.id,
    subjectKind: grant.identity.kind,
    subjectId: grant.identity.id,
    notBefore: signed.notBefore.toISOString(),
    notAfter: signed.notAfter.toISOString(),
    pem: signed.pem,
    publicKeySha256: csr.publicKeySha256,
  });
  if (!inserted.ok) throw new DmrError('DMR_INTERNAL_ERROR', `serial ${signed.serial} collided: ${inserted.message}`);
  const { actor, action } = grant;
  tx.changes.append({ actor, action, subjectKind: 'certificate', subjectId: signed.serial, after: inserted.value, outcome: 'applied' });
  if (agentBefore !== undefined) {
    const updated = await tx.agents.update(agentBefore.id, { authenticationCertificate: signed.pem });
    if (!updated.ok) throw new DmrError('DMR_CONTROL_NOT_FOUND', `agent ${agentBefore.id}: ${updated.message}`);
    tx.changes.append({
      actor,
      action: 'agent.certificate',
      subjectKind: 'agent',
      subjectId: agentBefore.id,
      before: agentBefore,
      after: updated.value,
      outcome: 'applied',
    });
  }
  return { record: inserted.value, configVersion: await tx.bumpConfigVersion() };
}
