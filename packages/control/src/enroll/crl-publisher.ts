// Signing and keeping one CRL per trusted CA in the store, so every control instance serves the same one: at once on
// a revocation (inside its transaction), and again before nextUpdate. With two instances on one database only one
// signs per period: the CRL-number allocation locks the CA's counter row until commit, and the signer checks under
// that lock whether the other instance has just published.

import type { Logger } from '@dmr/shared';
import { type RingCa, signCrlWith } from '../ca/index.js';
import { crlWindowAt, isCrlDue, type RingPurpose } from '../domain/index.js';
import type { CrlRecord } from '../store/index.js';
import type { LifecycleConfig } from './config.js';
import type { Actor, Clock, LifecycleStore, LifecycleTransaction } from './ports.js';
import type { CaRingHolder } from './ring-holder.js';

/** The control plane itself, as the change log's actor of scheduled work. */
export const SYSTEM_ACTOR: Actor = { subject: 'dmr-control', role: 'system' };

/** What {@link CrlPublisher.republishDue} signed. */
export interface Republished {
  readonly signed: readonly CrlRecord[];
  /** The configVersion after the last signing transaction; undefined when nothing was due. */
  readonly configVersion?: number;
}

// thrown inside a transaction to roll it back (and return its CRL number) when another instance just published
class AlreadyPublished extends Error {}

/** Dependencies of {@link CrlPublisher}. */
export interface CrlPublisherDeps {
  readonly store: LifecycleStore;
  readonly ring: CaRingHolder;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Signs, keeps and bundles the CRLs of the trusted CAs. */
export class CrlPublisher {
  readonly #deps: CrlPublisherDeps;
  readonly #config: Pick<LifecycleConfig, 'crlValidityMs' | 'crlRepublishBeforeMs'>;

  constructor(deps: CrlPublisherDeps, config: Pick<LifecycleConfig, 'crlValidityMs' | 'crlRepublishBeforeMs'>) {
    this.#deps = deps;
    this.#config = config;
  }

  /**
   * Signs the next CRL of `ca` inside `tx` with every revocation the store holds for it, and saves it. The number is
   * the store's next for the CA, above what dmrctl published offline. Does not bump the configVersion (the caller's
   * transaction does).
   */
  async signInTransaction(tx: LifecycleTransaction, ca: RingCa): Promise<CrlRecord> {
    const allocated = await tx.caState.allocateCrlNumber(ca.entry.id);
    return this.#sign(tx, ca, ca.offlineCrlNumber + allocated);
  }

  async #sign(tx: LifecycleTransaction, ca: RingCa, crlNumber: number): Promise<CrlRecord> {
    const window = crlWindowAt(this.#deps.clock.now(), this.#config.crlValidityMs);
    const revoked = await tx.certificates.revokedBy(ca.entry.id);
    const pem = await signCrlWith(ca, revoked, crlNumber, window);
    const record: CrlRecord = {
      caId: ca.entry.id,
      crlNumber,
      thisUpdate: window.thisUpdate.toISOString(),
      nextUpdate: window.nextUpdate.toISOString(),
      pem,
    };
    await tx.crls.save(record);
    return record;
  }

  /**
   * Signs a new CRL for every trusted CA that has none or whose latest is within `crlRepublishBeforeMs` of its
   * nextUpdate, each in its own transaction with a configVersion bump and a change-log entry. Returns what it
   * signed; the caller announces `crl`. A CA that fails is logged and the others still get theirs.
   */
  async republishDue(): Promise<Republished> {
    const signed: CrlRecord[] = [];
    let configVersion: number | undefined;
    for (const ca of this.#deps.ring.allTrusted()) {
      if (!this.#isDue(await this.#deps.store.crls.latest(ca.entry.id))) continue;
      try {
        const done = await this.#republish(ca);
        if (done === undefined) continue;
        signed.push(done.record);
        configVersion = done.configVersion;
      } catch (error) {
        this.#deps.log.error({ err: error, caId: ca.entry.id }, 'CRL republishing failed; the current CRL stays in force');
      }
    }
    return configVersion === undefined ? { signed } : { signed, configVersion };
  }

  async #republish(ca: RingCa): Promise<{ record: CrlRecord; configVersion: number } | undefined> {
    try {
      return await this.#deps.store.transaction(async (tx) => {
        const allocated = await tx.caState.allocateCrlNumber(ca.entry.id);
        // under the counter's lock: did another instance publish since we looked?
        if (!this.#isDue(await tx.crls.latest(ca.entry.id))) throw new AlreadyPublished();
        const record = await this.#sign(tx, ca, ca.offlineCrlNumber + allocated);
        tx.changes.append({
          actor: SYSTEM_ACTOR,
          action: 'crl.publish',
          subjectKind: 'crl',
          subjectId: ca.entry.id,
          after: record,
          outcome: 'applied',
        });
        return { record, configVersion: await tx.bumpConfigVersion() };
      });
    } catch (error) {
      if (error instanceof AlreadyPublished) return undefined;
      throw error;
    }
  }

  #isDue(latest: CrlRecord | undefined): boolean {
    const times = latest === undefined ? undefined : { nextUpdate: new Date(latest.nextUpdate) };
    return isCrlDue(times, this.#deps.clock.now(), this.#config.crlRepublishBeforeMs);
  }

  /**
   * The PEM bundle of the latest CRL of every trusted CA of `purpose` (label `X509 CRL`), in ring order. A CA without
   * a CRL yet gets one first (a fresh ring, a CA just published), so the bundle always covers every trusted CA:
   * OpenSSL refuses a certificate whose issuer has no CRL when CRL checking is on.
   */
  async bundle(purpose: RingPurpose): Promise<{ readonly pem: string; readonly signed: readonly CrlRecord[] }> {
    const trusted = this.#deps.ring.trusted(purpose);
    const missing = [];
    for (const ca of trusted) if ((await this.#deps.store.crls.latest(ca.entry.id)) === undefined) missing.push(ca);
    const signed = missing.length === 0 ? [] : (await this.republishDue()).signed;
    const pems: string[] = [];
    for (const ca of trusted) {
      const latest = await this.#deps.store.crls.latest(ca.entry.id);
      if (latest !== undefined) pems.push(latest.pem);
    }
    return { pem: pems.join(''), signed };
  }
}
