// The ports the certificate lifecycle is wired through (conventions 3: declared by the consumer). The service
// (service/) plugs in the real clock, the control store, the dmr.control announcer and pino.

import type { Logger } from '@dmr/shared';
import type { ControlStore, ControlTransaction } from '../store/index.js';

/** The clock every rule reads (token expiry, certificate validity, CRL windows). Tests pass a settable one. */
export interface Clock {
  now(): Date;
}

/** What a `dmr.control` announcement asks servers to re-fetch (design.md: `kinds`). */
export type AnnouncementKind = 'registry' | 'crl';

/**
 * Announces a committed change on the `dmr.control` fanout exchange (owned by push/). Called after commit only; a
 * failure is logged by the caller and never undoes the change (announcements are hints: servers also poll).
 */
export interface ConfigAnnouncer {
  announce(announcement: { readonly configVersion: number; readonly kinds: readonly AnnouncementKind[] }): Promise<void>;
}

/** The storage the certificate lifecycle needs: the control store (its `crls` and `serviceTokens` included). */
export type LifecycleStore = ControlStore;
/** A transaction of {@link LifecycleStore}. */
export type LifecycleTransaction = ControlTransaction;

/** Who acts: an admin certificate's subject and role, or the identity renewing or enrolling itself. */
export interface Actor {
  readonly subject: string;
  readonly role: string;
}

/** The dependencies of the certificate lifecycle. */
export interface LifecycleDeps {
  readonly store: LifecycleStore;
  readonly clock: Clock;
  readonly announcer: ConfigAnnouncer;
  /** The service's logger; the lifecycle logs through `log.child({component: 'certificates'})`. */
  readonly log: Logger;
}
