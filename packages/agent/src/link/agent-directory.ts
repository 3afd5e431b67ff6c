import { type PeerKeyBasis, type PeerTrustPolicy, type PublicKeyRef, verifyPeerKey } from '@dmr/shared';

/** An entry that could not be applied, and why. */
export interface SkippedAgent {
  readonly id: string;
  readonly reason: string;
}

/** What applying a list did. */
export interface DirectoryUpdate {
  readonly applied: number;
  readonly removed: number;
  readonly skipped: readonly SkippedAgent[];
}

/**
 * What the directory knows about a peer: a key it trusts; `unknown` (not in the list the relay sent); or `untrusted`
 * (listed, but its key is not backed by the DMR CA, or its certificate is outside its validity now).
 */
export type PeerKeyLookup =
  | {
      readonly status: 'trusted';
      readonly key: PublicKeyRef;
      readonly basis: PeerKeyBasis;
      /** What the entry announced (`capabilities` of the agent list; empty when it listed none). */
      readonly capabilities: readonly string[];
    }
  | { readonly status: 'unknown' }
  /** Left the list as disabled by the control plane (a `partial-list` entry with `deleted` and `disabled`). */
  | { readonly status: 'disabled' }
  | { readonly status: 'untrusted'; readonly reason: string };

/** How the directory decides which keys to trust, and its clock. */
export interface DirectoryOptions {
  readonly trust: PeerTrustPolicy;
  /** ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
}

interface TrustedEntry {
  readonly pem: string;
  readonly key: PublicKeyRef;
  readonly basis: PeerKeyBasis;
  readonly validFromMs: number;
  readonly validToMs: number;
  readonly capabilities: readonly string[];
}

/**
 * The agents this agent may talk to and their keys, as the DMR server distributes them
 * (`dmr:agents:full-list` / `dmr:agents:partial-list`).
 *
 * The relay is not trusted with keys: an entry's `authenticationCertificate` is used only when
 * {@link verifyPeerKey} accepts it (a certificate from the DMR CA naming that agent, or a bare key of an
 * agent marked legacy). A refused entry is remembered as `untrusted` with its reason, and any key the id had
 * before is dropped: the registry is the authority for replacing keys, and a relay that sends a key it should
 * not is answered with a refusal, never with a stale key nor with the relay's key. Verification runs once per
 * PEM change; the certificate's validity window is checked again on every lookup.
 */
export class AgentDirectory {
  #trust: PeerTrustPolicy;
  readonly #now: () => number;
  readonly #trusted = new Map<string, TrustedEntry>();
  readonly #untrusted = new Map<string, string>();
  /** The last entry the list carried for each listed id, so a change of the trust anchors can judge it again. */
  readonly #entries = new Map<string, Record<string, unknown>>();
  /** Agents a delta removed as disabled or a full list named disabled; forgotten when listed again or on the next full list. */
  readonly #disabled = new Set<string>();

  constructor(options: DirectoryOptions) {
    this.#trust = options.trust;
    this.#now = options.now ?? Date.now;
  }

  /** Replaces the whole directory with `agents` (a full list) and the disabled agents with those it names. */
  replaceAll(agents: unknown, disabled: readonly string[] = []): DirectoryUpdate {
    const entries = Array.isArray(agents) ? agents : [];
    const skipped: SkippedAgent[] = [];
    const previous = new Set(this.#ids());
    this.#disabled.clear();
    for (const id of disabled) this.#disabled.add(id);
    const present = new Set<string>();
    for (const entry of entries) {
      const outcome = this.#put(entry);
      if (outcome.ok) present.add(outcome.id);
      else skipped.push({ id: outcome.id, reason: outcome.reason });
      if (hasStringId(entry)) this.#disabled.delete(entry.id);
    }
    const listed = new Set([...present, ...skipped.map((s) => s.id)]);
    for (const id of this.#trusted.keys()) if (!present.has(id)) this.#trusted.delete(id);
    for (const id of this.#untrusted.keys()) if (!listed.has(id)) this.#untrusted.delete(id);
    for (const id of this.#entries.keys()) if (!listed.has(id)) this.#entries.delete(id);
    const removed = [...previous].filter((id) => !listed.has(id)).length;
    return { applied: present.size, removed, skipped };
  }

  /** Applies changed entries; entries with `deleted: true` are removed. */
  applyPartial(agents: unknown): DirectoryUpdate {
    const entries = Array.isArray(agents) ? agents : [];
    const skipped: SkippedAgent[] = [];
    let applied = 0;
    let removed = 0;
    for (const entry of entries) {
      if (isRecord(entry) && entry.deleted === true && typeof entry.id === 'string') {
        removed += this.#remove(entry.id) ? 1 : 0;
        if (entry.disabled === true) this.#disabled.add(entry.id);
        continue;
      }
      if (hasStringId(entry)) this.#disabled.delete(entry.id);
      const outcome = this.#put(entry);
      if (outcome.ok) applied += 1;
      else skipped.push({ id: outcome.id, reason: outcome.reason });
    }
    return { applied, removed, skipped };
  }

  /** What the directory knows about `agentId` now (a certificate that expired since it was listed is `untrusted`). */
  lookup(agentId: string): PeerKeyLookup {
    const entry = this.#trusted.get(agentId);
    if (entry === undefined) {
      const reason = this.#untrusted.get(agentId);
      if (reason !== undefined) return { status: 'untrusted', reason };
      return this.#disabled.has(agentId) ? { status: 'disabled' } : { status: 'unknown' };
    }
    const nowMs = this.#now();
    if (nowMs > entry.validToMs)
      return { status: 'untrusted', reason: `certificate expired at ${new Date(entry.validToMs).toISOString()}` };
    if (nowMs < entry.validFromMs) {
      return { status: 'untrusted', reason: `certificate is not valid before ${new Date(entry.validFromMs).toISOString()}` };
    }
    return { status: 'trusted', key: entry.key, basis: entry.basis, capabilities: entry.capabilities };
  }

  /**
   * Puts new trust anchors in force (a CA change-over: `DMR_PEER_CA_FILE` changed) and judges every listed entry again:
   * a peer renewed onto a newly published CA becomes trusted, one whose CA was retired untrusted. Returns how many
   * entries are trusted and untrusted now.
   */
  retrust(trust: PeerTrustPolicy): { trusted: number; untrusted: number } {
    this.#trust = trust;
    const entries = [...this.#entries.values()];
    // judged anew from the entry, not from what an earlier verdict kept (a dropped anchor must drop its keys)
    this.#trusted.clear();
    this.#untrusted.clear();
    for (const entry of entries) this.#put(entry);
    return { trusted: this.#trusted.size, untrusted: this.#untrusted.size };
  }

  /** Number of listed agents (trusted or not). */
  get size(): number {
    return this.#trusted.size + this.#untrusted.size;
  }

  #ids(): string[] {
    return [...this.#trusted.keys(), ...this.#untrusted.keys()];
  }

  #put(entry: unknown): { ok: true; id: string } | { ok: false; id: string; reason: string } {
    if (!isRecord(entry) || typeof entry.id !== 'string' || entry.id === '') {
      return { ok: false, id: '?', reason: 'entry has no id' };
    }
    const id = entry.id;
    this.#entries.set(id, entry);
    const pem = entry.authenticationCertificate;
    if (typeof pem !== 'string' || pem === '') return this.#refuse(id, 'entry has no authenticationCertificate');
    const capabilities = capabilitiesOf(entry.capabilities);
    const known = this.#trusted.get(id);
    if (known?.pem === pem) {
      // a capability change alone needs no new verification: the key is the same
      this.#trusted.set(id, { ...known, capabilities });
      return { ok: true, id };
    }
    const verdict = verifyPeerKey(id, pem, this.#trust, this.#now());
    if (!verdict.ok) return this.#refuse(id, verdict.reason);
    const { key, basis, validFromMs, validToMs } = verdict;
    this.#trusted.set(id, { pem, key, basis, validFromMs, validToMs, capabilities });
    this.#untrusted.delete(id);
    return { ok: true, id };
  }

  #refuse(id: string, reason: string): { ok: false; id: string; reason: string } {
    this.#trusted.delete(id);
    this.#untrusted.set(id, reason);
    return { ok: false, id, reason };
  }

  #remove(id: string): boolean {
    this.#entries.delete(id);
    const wasTrusted = this.#trusted.delete(id);
    return this.#untrusted.delete(id) || wasTrusted;
  }
}

/**
 * The capability strings of an agent-list entry (issue 16); anything that is not an array of short strings counts as
 * none. They only choose between algorithms this agent accepts anyway (docs/security.md), so a relay that strips or
 * adds one can at most cause a failed delivery, never a weaker one than the seed-003 profile.
 */
function capabilitiesOf(value: unknown): readonly string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is string => typeof item === 'string' && item.length <= 64).slice(0, 16);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function hasStringId(value: unknown): value is Record<string, unknown> & { id: string } {
  return isRecord(value) && typeof value.id === 'string';
}
