// One interface for every way to obtain a certificate (the shape of smallstep's authority/provisioner): a
// provisioner authorises a request for a verified CSR inside the store transaction (consuming what it must, e.g. a
// token) and says what to sign; it never signs itself. The lifecycle then signs, records and announces the same way
// for all of them (issuer.ts).

import type { LeafProfile, VerifiedCsr } from '../ca/index.js';
import type { CertificateIdentity, CertOutcome, RingPurpose } from '../domain/index.js';
import type { Actor, LifecycleTransaction } from './ports.js';

/** What a provisioner allows: whom the certificate names, how, from which CA purpose, for how long, and who asked. */
export interface SignGrant {
  readonly identity: CertificateIdentity;
  readonly profile: LeafProfile;
  readonly purpose: RingPurpose;
  readonly validityDays: number;
  readonly actor: Actor;
  /** The change-log action: `certificate.enroll`, `certificate.renew` or `certificate.issue`. */
  readonly action: string;
}

/** The ways to obtain a certificate. */
export type ProvisionerType = 'token' | 'renewal' | 'operator';

/** A way to obtain a certificate, for requests of type `R`. */
export interface Provisioner<R> {
  readonly type: ProvisionerType;
  /**
   * Authorises `request` for `csr` inside `tx`, or refuses with a value. A refusal must leave nothing written by
   * the provisioner (the transaction still commits, to record the refusal in the change log); a fault throws.
   */
  authorize(tx: LifecycleTransaction, request: R, csr: VerifiedCsr): Promise<CertOutcome<SignGrant>>;
}
