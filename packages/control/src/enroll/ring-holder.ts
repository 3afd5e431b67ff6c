// The CA ring in force in this process. ring.json is re-read on every CRL check (and on demand), so a change-over
// step done on disk (or in a ConfigMap) reaches every control instance without a restart; a ring that fails to
// load leaves the last good one in force.

import { type LoadedRing, loadCaRing, type RingCa, signingCaOf, trustedBundlePem, trustedCasOf } from '../ca/index.js';
import { type RingPurpose, serialiseCaRing } from '../domain/index.js';

/** What a reload changed. */
export interface RingReload {
  /** The set of trusted CAs changed (a CA published or retired): bundles and CRLs differ. */
  readonly trustChanged: boolean;
  /** Anything in ring.json changed (also a switch of the signing CA). */
  readonly changed: boolean;
}

/** Holds the loaded CA ring; see {@link CaRingHolder.open}. */
export class CaRingHolder {
  readonly #dir: string;
  #loaded: LoadedRing;

  private constructor(dir: string, loaded: LoadedRing) {
    this.#dir = dir;
    this.#loaded = loaded;
  }

  /** Loads the ring in `dir`. Throws the codes of `loadCaRing` (the service refuses to start without its CAs). */
  static async open(dir: string): Promise<CaRingHolder> {
    return new CaRingHolder(dir, await loadCaRing(dir));
  }

  /** The CA directory (`DMR_CONTROL_CA_DIR`). */
  get dir(): string {
    return this.#dir;
  }

  /** The ring in force. */
  get current(): LoadedRing {
    return this.#loaded;
  }

  /** The CA signing for `purpose`, or undefined when the ring has none. */
  signer(purpose: RingPurpose): RingCa | undefined {
    return signingCaOf(this.#loaded, purpose);
  }

  /** The trusted CAs of `purpose`. */
  trusted(purpose: RingPurpose): RingCa[] {
    return trustedCasOf(this.#loaded, purpose);
  }

  /** Every trusted CA. */
  allTrusted(): readonly RingCa[] {
    return this.#loaded.trusted;
  }

  /** The PEM bundle of the trusted CA certificates of `purpose`. */
  bundle(purpose: RingPurpose): string {
    return trustedBundlePem(this.#loaded, purpose);
  }

  /** Re-reads ring.json and the CAs it trusts. Throws (keeping the ring in force) when the new one does not load. */
  async reload(): Promise<RingReload> {
    const next = await loadCaRing(this.#dir);
    const before = this.#loaded;
    this.#loaded = next;
    return {
      changed: serialiseCaRing(before.ring) !== serialiseCaRing(next.ring),
      trustChanged: trustKey(before) !== trustKey(next),
    };
  }
}

function trustKey(loaded: LoadedRing): string {
  return loaded.trusted.map((ca) => `${ca.entry.purpose}/${ca.entry.id}`).join(',');
}
