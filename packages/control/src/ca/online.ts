// Signing for the online control plane: a leaf for a verified CSR and a CRL from the store's revocations, with a CA
// of the ring. Nothing here touches a file: the keys were loaded by ring.ts, the state lives in the control store.

import type { KeyObject } from 'node:crypto';
import { normaliseSerial, withFinalNewline } from '@dmr/shared/base';
import { buildCrl, type CrlEntry } from './crl.js';
import { signLeaf, type Validity, validityFor } from './issue.js';
import type { LeafProfile } from './profiles.js';
import type { RingCa } from './ring.js';

/** A certificate just signed. */
export interface SignedLeaf {
  /** Canonical hex (see normaliseSerial). */
  readonly serial: string;
  /** PEM ending with a newline. */
  readonly pem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Signs a leaf for `subjectKey` as `profile` says, valid `days` from `now` (notBefore backdated for clock skew) but
 * never past the CA certificate's own notAfter: a leaf outliving its CA would fail verification anyway, and a
 * capped one makes the renewal schedule move agents to the next CA in time. Throws DMR_CA_INVALID_REQUEST.
 */
export async function signLeafWith(ca: RingCa, profile: LeafProfile, subjectKey: KeyObject, days: number, now: Date): Promise<SignedLeaf> {
  const wanted = validityFor(days, now);
  const caNotAfter = ca.signer.certificate.notAfter;
  const validity: Validity =
    wanted.notAfter > caNotAfter ? validityFor(days, now, { notBefore: wanted.notBefore, notAfter: caNotAfter }) : wanted;
  const certificate = await signLeaf(ca.signer, profile, subjectKey, validity);
  return {
    serial: normaliseSerial(certificate.serialNumber),
    pem: withFinalNewline(certificate.toString('pem')),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}

/** Signs CRL number `crlNumber` of `ca` listing `revoked`, for the window given; PEM labelled `X509 CRL`. */
export function signCrlWith(
  ca: RingCa,
  revoked: readonly CrlEntry[],
  crlNumber: number,
  window: { readonly thisUpdate: Date; readonly nextUpdate: Date },
): Promise<string> {
  return buildCrl(ca.signer, revoked, { crlNumber, ...window });
}
