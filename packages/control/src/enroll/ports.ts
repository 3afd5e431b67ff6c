// The ports the certificate lifecycle is wired through (conventions 3: declared by the consumer). The service
// (service/) plugs in the real clock, the control store, the dmr.control announcer and pino.

import type { Logger } from '@dmr/shared';
import type { ControlReader, ControlStore, ControlTransaction, IsoTime, TransactionOptions } from '../store/index.js';

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

/** One signed CRL of one CA, as every control instance serves it. */
export interface CrlRecord {
  readonly caId: string;
  readonly crlNumber: number;
  readonly thisUpdate: IsoTime;
  readonly nextUpdate: IsoTime;
  /** PEM, label `X509 CRL`, ending with a newline. */
  readonly pem: string;
}

/** Reading the latest signed CRL of a CA. */
export interface CrlReader {
  /** The CRL with the highest number of `caId`, or undefined before its first. */
  latest(caId: string): Promise<CrlRecord | undefined>;
}

/** Keeping signed CRLs (inside a transaction; does not bump the configVersion by itself). */
export interface CrlWriter extends CrlReader {
  /** Stores a CRL; its number comes from `caState.allocateCrlNumber` in the same transaction. */
  save(record: CrlRecord): Promise<void>;
}

/** A control-store transaction that also keeps CRLs. */
export interface LifecycleTransaction extends ControlTransaction {
  readonly crls: CrlWriter;
}

/** A control-store reader that also reads CRLs. */
export interface LifecycleReader extends ControlReader {
  readonly crls: CrlReader;
}

/** The storage the certificate lifecycle needs: the control store plus the signed CRLs. */
export interface LifecycleStore extends Omit<ControlStore, 'transaction' | 'snapshot'> {
  readonly crls: CrlReader;
  transaction<T>(fn: (tx: LifecycleTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  snapshot<T>(fn: (view: LifecycleReader) => Promise<T>): Promise<T>;
}

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
