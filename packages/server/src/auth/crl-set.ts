import type { DmrErrorCode } from '@dmr/shared';
import { type CrlBundleEntry, type CrlHealth, crlHealth, judgeCrlSuccession, type VerifiedCrl } from '@dmr/shared/pki';

/** The CRLs in force, one per CA, keyed by the key id of the CA (`CaIdentity.keyId`). */
export type CrlSet = ReadonlyMap<string, VerifiedCrl>;

/** One CRL of a bundle that did not come into force, and why. */
export interface CrlRefusal {
  readonly code: DmrErrorCode;
  readonly reason: string;
  /** The refused block, so a refusal repeated by every poll is logged once. */
  readonly pem: string;
  /** The CA the CRL names when it verified (refused for its window or age), else undefined. */
  readonly issuer: string | undefined;
}

/** The outcome of merging a bundle into the CRLs in force. */
export interface CrlSetChange {
  readonly next: CrlSet;
  /** CRLs that came into force (new CA, or newer than the one in force). */
  readonly accepted: readonly VerifiedCrl[];
  readonly refused: readonly CrlRefusal[];
  /** CRLs dropped because their CA is no longer in the trust bundle (`DMR_TLS_CA_FILE`). */
  readonly dropped: readonly VerifiedCrl[];
}

/**
 * Merges a verified bundle into the CRLs in force, CA by CA, so that one bad CRL never holds back another CA's
 * revocations (docs/security.md, "CRL lifecycle"). For a CA that has a CRL in force, a candidate must pass
 * `judgeCrlSuccession` (inside its window, not older); for a CA without one, any verified CRL is taken, even an
 * expired one: OpenSSL then refuses that CA's certificates, as it does without a CRL, and readiness says why.
 * A CA the bundle leaves out keeps its CRL in force (last good kept); a CA no longer in `trustedKeyIds` loses it. Pure.
 */
export function mergeCrlBundle(
  inForce: CrlSet,
  entries: readonly CrlBundleEntry[],
  trustedKeyIds: ReadonlySet<string>,
  now: Date,
): CrlSetChange {
  const next = new Map(inForce);
  const accepted: VerifiedCrl[] = [];
  const refused: CrlRefusal[] = [];
  for (const entry of entries) {
    if (!entry.ok) {
      refused.push({ code: entry.code, reason: entry.reason, pem: entry.pem, issuer: undefined });
      continue;
    }
    const { crl } = entry;
    const current = next.get(crl.ca.keyId);
    if (current?.pem === crl.pem) continue;
    const succession = current ? judgeCrlSuccession(crl.snapshot, current.snapshot, now) : ({ ok: true } as const);
    if (!succession.ok) {
      refused.push({ code: succession.code, reason: succession.reason, pem: crl.pem, issuer: crl.ca.subject });
      continue;
    }
    next.set(crl.ca.keyId, crl);
    accepted.push(crl);
  }
  const dropped = [...next.values()].filter((crl) => !trustedKeyIds.has(crl.ca.keyId));
  for (const crl of dropped) next.delete(crl.ca.keyId);
  return { next, accepted, refused, dropped };
}

/** How bad a health is, for picking the worst CRL of a set. */
const SEVERITY: Readonly<Record<CrlHealth, number>> = { none: 0, current: 1, expiring: 2, 'not-yet-valid': 3, expired: 4 };

/** The worst CRL of the set at `now` and its health; `none` for an empty set. Pure. */
export function worstCrl(set: CrlSet, now: Date, warnBeforeMs: number): { health: CrlHealth; crl: VerifiedCrl | undefined } {
  let worst: { health: CrlHealth; crl: VerifiedCrl | undefined } = { health: 'none', crl: undefined };
  for (const crl of set.values()) {
    const health = crlHealth(crl.snapshot, now, warnBeforeMs);
    if (SEVERITY[health] > SEVERITY[worst.health]) worst = { health, crl };
  }
  return worst;
}

/** Every revoked serial of every CRL in force (canonical hex). Serials are random per CA, so one set serves all. */
export function revokedSerialsOf(set: CrlSet): ReadonlySet<string> {
  const serials = new Set<string>();
  for (const crl of set.values()) for (const serial of crl.snapshot.revokedSerials) serials.add(serial);
  return serials;
}
