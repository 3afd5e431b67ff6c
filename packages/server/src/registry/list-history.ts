import { type AgentInfo, agentListVersion } from '@dmr/shared';
import { diffRegistry, partialListOf, type RegistrySnapshot } from './registry-snapshot.js';

/** One agent list version the server can serve a delta from. */
export interface ListVersion {
  readonly version: string;
  readonly snapshot: RegistrySnapshot;
  /** The list as sent in `full-list`, frozen: callers cache encodings by its identity. */
  readonly agents: readonly AgentInfo[];
}

/**
 * What an agent that announced versioned lists gets on connect: nothing (`current`), the changes since the version it
 * holds (`delta`, `deleted: true` entries for removed agents), or the whole list (`full`). Plans are cached until the
 * next version, so callers may cache their encoding by the plan's identity.
 */
export type ListPlan =
  | { readonly kind: 'current'; readonly version: string }
  | { readonly kind: 'delta'; readonly version: string; readonly baseVersion: string; readonly entries: readonly AgentInfo[] }
  | {
      readonly kind: 'full';
      readonly version: string;
      readonly agents: readonly AgentInfo[];
      /** Agents the control plane disabled (sorted; never in `agents`), for the list meta's `disabled`. */
      readonly disabled: readonly string[];
    };

/** Versions kept by default (the current one included) to compute deltas from. */
export const DEFAULT_LIST_HISTORY = 8;

/**
 * The last few agent list versions, newest last, and the list plan for an agent holding any of them. Memory is
 * bounded by `maxVersions` snapshots, and the snapshots share every unchanged agent's objects (see `internUnchanged`),
 * so an older version costs a map of references, not a second copy of the certificates.
 *
 * An agent whose version is not among them (older, from a registry this instance never loaded, or forged) gets the
 * full list: the one outcome that is always correct.
 */
export class AgentListHistory {
  readonly #versions: ListVersion[] = [];
  readonly #plans = new Map<string, ListPlan>();
  /** Agents the control plane disabled in the registry in force (not part of the list version). */
  #disabled: readonly string[] = [];

  constructor(private readonly maxVersions = DEFAULT_LIST_HISTORY) {}

  /** The version in force, if any. */
  get current(): ListVersion | undefined {
    return this.#versions.at(-1);
  }

  /**
   * The agents the control plane disabled in the registry in force: named in full lists and marked `disabled` in
   * deltas. Plans made with another set are dropped (the set may change while the list stays the same).
   */
  setDisabled(disabled: Iterable<string>): void {
    const next = [...new Set(disabled)].sort();
    if (next.length === this.#disabled.length && next.every((id, index) => id === this.#disabled[index])) return;
    this.#disabled = Object.freeze(next);
    this.#plans.clear();
  }

  /** Makes `snapshot` the version in force and returns it; the oldest version beyond the bound is forgotten. */
  record(snapshot: RegistrySnapshot): ListVersion {
    const agents = Object.freeze([...snapshot.values()].map((agent) => agent.info));
    const entry: ListVersion = { version: agentListVersion(agents), snapshot, agents };
    // the same content again (a registry that went back to an older version) moves that version to the front
    const index = this.#versions.findIndex((known) => known.version === entry.version);
    if (index >= 0) this.#versions.splice(index, 1);
    this.#versions.push(entry);
    if (this.#versions.length > this.maxVersions) this.#versions.shift();
    this.#plans.clear();
    return entry;
  }

  /** The plan for an agent that holds `baseVersion` (undefined: it holds no list). Undefined until a version is recorded. */
  plan(baseVersion: string | undefined): ListPlan | undefined {
    const current = this.current;
    if (!current) return undefined;
    // an unknown version is planned as no version: the cache holds at most one plan per known version, whatever agents send
    const base = baseVersion === undefined ? undefined : this.#versions.find((known) => known.version === baseVersion);
    const key = base?.version ?? '';
    let plan = this.#plans.get(key);
    if (!plan) {
      plan = planFor(current, base, this.#disabled);
      this.#plans.set(key, plan);
    }
    return plan;
  }
}

function planFor(current: ListVersion, base: ListVersion | undefined, disabled: readonly string[]): ListPlan {
  if (base === current) return { kind: 'current', version: current.version };
  if (base) {
    const disabledSet = new Set(disabled);
    const entries = partialListOf(diffRegistry(base.snapshot, current.snapshot), (id) => disabledSet.has(id));
    // a delta as long as the list is no cheaper to send, and costs the agent more to apply
    if (entries.length < current.agents.length) {
      return { kind: 'delta', version: current.version, baseVersion: base.version, entries };
    }
  }
  return { kind: 'full', version: current.version, agents: current.agents, disabled };
}
