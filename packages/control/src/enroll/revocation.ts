// Revocation through the admin API (POST /v1/certificates/{serial}/revocation): revoked in the store, a new CRL of
// the issuing CA signed in the same transaction, the agent cut from the registry when it was its current
// certificate, configVersion bumped, then `crl` (and `registry`) announced.

import { normaliseSerial } from '@dmr/shared/base';
import { type ApiRevocationReason, type CertOutcome, certRefusal, parseApiRevocationReason } from '../domain/index.js';
import type { CertificateRecord, CrlRecord } from '../store/index.js';
import type { CrlPublisher } from './crl-publisher.js';
import type { Actor, AnnouncementKind, LifecycleTransaction } from './ports.js';
import type { CaRingHolder } from './ring-holder.js';

/** What a revocation did. */
export interface Revocation {
  /** Every certificate revoked: the one named, plus (keyCompromise) the subject's others with the same key. */
  readonly revoked: readonly CertificateRecord[];
  readonly crls: readonly CrlRecord[];
  /** The agents whose registry entry lost its certificate (they leave the CentOps view until they enroll again). */
  readonly agentsCut: readonly string[];
  readonly configVersion: number;
  readonly kinds: readonly AnnouncementKind[];
}

/** Checks the request's serial and reason; refusals name the field (`serial`, `reason`). */
export function parseRevocationRequest(
  serial: string,
  reason: unknown,
): CertOutcome<{ readonly serial: string; readonly reason: ApiRevocationReason }> {
  const parsedReason = parseApiRevocationReason(reason);
  if (!parsedReason.ok) return parsedReason;
  if (!/^[0-9A-Fa-f:]{2,64}$/.test(serial)) return certRefusal('DMR_CA_INVALID_REQUEST', 'serial must be hexadecimal', 'serial');
  return { ok: true, value: { serial: normaliseSerial(serial), reason: parsedReason.value } };
}

/**
 * Revokes in `tx`. Refusals: DMR_CA_NOT_ISSUED (404), DMR_CA_ALREADY_REVOKED (409), both before anything is written.
 * With `keyCompromise`, every other unrevoked certificate of the same subject and key is revoked too: renewal keeps
 * the key pair, so the compromised key also sits in the newer certificates.
 */
export async function revokeInTransaction(
  tx: LifecycleTransaction,
  deps: { readonly ring: CaRingHolder; readonly crls: CrlPublisher },
  actor: Actor,
  request: { readonly serial: string; readonly reason: ApiRevocationReason },
): Promise<CertOutcome<Revocation>> {
  const first = await tx.certificates.revoke(request.serial, request.reason);
  if (!first.ok) return { ...first, field: 'serial' };
  const revoked = [first.value, ...(request.reason === 'keyCompromise' ? await revokeSameKey(tx, first.value) : [])];
  for (const record of revoked) {
    tx.changes.append({
      actor,
      action: 'certificate.revoke',
      subjectKind: 'certificate',
      subjectId: record.serial,
      after: record,
      outcome: 'applied',
    });
  }
  const agentsCut = await cutFromRegistry(tx, actor, revoked);
  const crls: CrlRecord[] = [];
  for (const caId of new Set(revoked.map((record) => record.caId))) {
    // a retired CA is trusted by nobody: its certificates fail anyway, and it needs no CRL
    const ca = deps.ring.allTrusted().find((trusted) => trusted.entry.id === caId);
    if (ca !== undefined) crls.push(await deps.crls.signInTransaction(tx, ca));
  }
  const kinds: AnnouncementKind[] = agentsCut.length > 0 ? ['crl', 'registry'] : ['crl'];
  return { ok: true, value: { revoked, crls, agentsCut, configVersion: await tx.bumpConfigVersion(), kinds } };
}

async function revokeSameKey(tx: LifecycleTransaction, first: CertificateRecord): Promise<CertificateRecord[]> {
  const done: CertificateRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await tx.certificates.list({
      subjectKind: first.subjectKind,
      subjectId: first.subjectId,
      revoked: false,
      ...(cursor ? { cursor } : {}),
    });
    if (!page.ok) break;
    for (const record of page.value.items) {
      if (record.publicKeySha256 !== first.publicKeySha256) continue;
      const outcome = await tx.certificates.revoke(record.serial, 'keyCompromise');
      if (outcome.ok) done.push(outcome.value);
    }
    cursor = page.value.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return done;
}

/** Clears the authenticationCertificate of every agent whose current certificate was just revoked. */
async function cutFromRegistry(tx: LifecycleTransaction, actor: Actor, revoked: readonly CertificateRecord[]): Promise<string[]> {
  const cut: string[] = [];
  for (const record of revoked) {
    if (record.subjectKind !== 'agent') continue;
    const agent = await tx.agents.get(record.subjectId);
    if (agent?.authenticationCertificate !== record.pem) continue;
    const updated = await tx.agents.update(agent.id, { authenticationCertificate: null });
    if (!updated.ok) continue;
    tx.changes.append({
      actor,
      action: 'agent.certificate',
      subjectKind: 'agent',
      subjectId: agent.id,
      before: agent,
      after: updated.value,
      outcome: 'applied',
    });
    cut.push(agent.id);
  }
  return cut;
}
