// The trust-anchor change-over through the admin API (issue 18): one step at a time on the CA ring in
// DMR_CONTROL_CA_DIR (publish a new CA beside the old, activate it, retire the old), each recorded in the change log
// under the admin who asked, its CRLs signed, and announced as `crl` so servers, and through them agents, follow.

import { activateRingCa, addCaToRing, type KeyType, retireRingCa } from '../ca/index.js';
import { type CaRing, type CertOutcome, certRefusal, type RingPurpose } from '../domain/index.js';
import type { CrlPublisher } from './crl-publisher.js';
import type { Actor, LifecycleStore } from './ports.js';
import type { CaRingHolder } from './ring-holder.js';

/** The three steps, in the order an operator takes them. */
export type RotationStep = 'publish' | 'activate' | 'retire';

/** `POST /v1/ca/rotation`. */
export interface RotationRequest {
  readonly step: RotationStep;
  /** The CA's id in the ring (its directory name and the store's caId). */
  readonly caId: string;
  /** publish: what the new CA signs (default agents). */
  readonly purpose?: RingPurpose;
  /** publish: the new CA's subject CN (default "DMR <purpose> CA <caId>"). */
  readonly commonName?: string;
  /** publish: key type (default as `dmrctl ca init`). */
  readonly keyType?: KeyType;
  /** publish: validity of the CA certificate, days. */
  readonly validityDays?: number;
}

/** What a step did. */
export interface RotationResult {
  readonly step: RotationStep;
  readonly caId: string;
  /** The ring after the step. */
  readonly ring: CaRing;
  /** The version the step was recorded (and announced) with. */
  readonly configVersion: number;
}

/** Collaborators of {@link rotateCa}. */
export interface RotationDeps {
  readonly store: LifecycleStore;
  readonly ring: CaRingHolder;
  readonly crls: CrlPublisher;
  /** Called when the set of trusted CAs changed (the admin API's client-CA list follows). */
  readonly onTrustChanged?: () => void;
}

/**
 * Applies one step to ring.json, reloads the ring, signs the CRLs that are due (a newly published CA gets its first),
 * and records the step in the change log (action `ca-ring.<step>`, bumping configVersion). The caller announces `crl`
 * with the version returned. Refusals are values (DMR_CA_INVALID_REQUEST naming `caId` or `step`: an unknown CA, a CA
 * in the wrong state for the step, a single-CA directory without ring.json); file faults throw.
 */
export async function rotateCa(deps: RotationDeps, actor: Actor, request: RotationRequest): Promise<CertOutcome<RotationResult>> {
  const done = await applyStep(deps.ring.dir, request);
  if (!done.ok) return certRefusal(done.code, done.message, done.field === 'id' ? 'caId' : (done.field ?? 'caId'));
  const reload = await deps.ring.reload();
  if (reload.trustChanged) deps.onTrustChanged?.();
  await deps.crls.republishDue();
  const ring = deps.ring.current.ring;
  const configVersion = await deps.store.transaction(async (tx) => {
    tx.changes.append({
      actor,
      action: `ca-ring.${request.step}`,
      subjectKind: 'ca-ring',
      subjectId: request.caId,
      after: ring,
      outcome: 'applied',
    });
    return tx.bumpConfigVersion();
  });
  return { ok: true, value: { step: request.step, caId: request.caId, ring, configVersion } };
}

function applyStep(dir: string, request: RotationRequest): Promise<CertOutcome<CaRing>> {
  switch (request.step) {
    case 'publish': {
      const purpose = request.purpose ?? 'agents';
      return addCaToRing(dir, {
        id: request.caId,
        purpose,
        commonName: request.commonName ?? `DMR ${purpose} CA ${request.caId}`,
        ...(request.keyType === undefined ? {} : { keyType: request.keyType }),
        ...(request.validityDays === undefined ? {} : { validityDays: request.validityDays }),
      });
    }
    case 'activate':
      return activateRingCa(dir, request.caId);
    case 'retire':
      return retireRingCa(dir, request.caId);
    default:
      return Promise.resolve(certRefusal('DMR_CA_INVALID_REQUEST', `unknown step "${String(request.step)}"`, 'step'));
  }
}
