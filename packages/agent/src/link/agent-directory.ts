import { type PublicKeyRef, PublicKeyRing } from '@dmr/shared';

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
 * The agents this agent may talk to and their public keys, as the DMR server distributes them
 * (`dmr:agents:full-list` / `dmr:agents:partial-list`). Keys are imported once per PEM change.
 *
 * An entry whose key fails to import is dropped rather than kept with its previous key:
 * the registry is the authority, and an old key that the registry replaced must not stay trusted.
 */
export class AgentDirectory {
  readonly #ring = new PublicKeyRing();
  readonly #known = new Set<string>();

  /** Replaces the whole directory with `agents` (a full list). */
  replaceAll(agents: unknown): DirectoryUpdate {
    const entries = Array.isArray(agents) ? agents : [];
    const skipped: SkippedAgent[] = [];
    const previous = new Set(this.#known);
    const present = new Set<string>();
    for (const entry of entries) {
      const outcome = this.#put(entry);
      if (outcome.ok) present.add(outcome.id);
      else skipped.push(outcome);
    }
    const removed = [...previous].filter((id) => !present.has(id)).length;
    this.#ring.retain(present);
    this.#known.clear();
    for (const id of present) this.#known.add(id);
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
        continue;
      }
      const outcome = this.#put(entry);
      if (outcome.ok) applied += 1;
      else skipped.push(outcome);
    }
    return { applied, removed, skipped };
  }

  /** The public key of `agentId`, if the agent is known. */
  keyFor(agentId: string): PublicKeyRef | undefined {
    return this.#ring.get(agentId);
  }

  /** Number of known agents. */
  get size(): number {
    return this.#known.size;
  }

  #put(entry: unknown): { ok: true; id: string } | { ok: false; id: string; reason: string } {
    if (!isRecord(entry) || typeof entry.id !== 'string' || entry.id === '') {
      return { ok: false, id: '?', reason: 'entry has no id' };
    }
    const id = entry.id;
    if (typeof entry.authenticationCertificate !== 'string' || entry.authenticationCertificate === '') {
      this.#remove(id);
      return { ok: false, id, reason: 'entry has no authenticationCertificate' };
    }
    try {
      this.#ring.set(id, entry.authenticationCertificate);
      this.#known.add(id);
      return { ok: true, id };
    } catch (error) {
      this.#remove(id);
      return { ok: false, id, reason: error instanceof Error ? error.message : String(error) };
    }
  }

  #remove(id: string): boolean {
    this.#ring.delete(id);
    return this.#known.delete(id);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
