import { type AgentInfo, type AgentListMeta, agentListVersion, isAgentListVersion } from '@dmr/shared';
import { isAgentId } from '@dmr/shared/base';

/**
 * What to do with a list event: apply `agents` to the directory (`replaceAll` for `full`, `applyPartial` for
 * `partial`); ignore it (a malformed list from a server that keeps no versions: reconnecting would bring the same); or
 * resynchronise (drop the version and reconnect, which brings the full list) because the event does not fit the list held.
 */
export type ListOutcome =
  | {
      readonly action: 'apply';
      readonly kind: 'full' | 'partial';
      readonly agents: readonly unknown[];
      /** Full lists: the agents the control plane disabled (the meta's `disabled`; none from seed-003 servers). */
      readonly disabled: readonly string[];
    }
  | { readonly action: 'ignore'; readonly reason: string }
  | { readonly action: 'resync'; readonly reason: string };

/**
 * The agent list the agent holds, as the server sent it, and its version (`agentListVersion`), kept across
 * connections so a reconnect can announce it and be answered with nothing or a delta. Pure: no socket, no clock.
 *
 * The version is recomputed from the entries held, never taken on trust: a full list whose version does not match
 * its content is applied but leaves the agent holding no version (the next connect asks for the full list again),
 * and a delta is applied only when it starts from the version held and ends at the version it names. Anything else
 * is an inconsistency, answered by a resync.
 */
export class AgentListState {
  #version: string | undefined;
  #entries = new Map<string, AgentInfo>();

  /** Version of the list held; undefined when none is held or the server keeps no versions (seed 003). */
  get version(): string | undefined {
    return this.#version;
  }

  /** Forgets the version (the entries stay until the next full list replaces them): the next connect gets the full list. */
  forget(): void {
    this.#version = undefined;
  }

  /** A `dmr:agents:full-list` argument: `[agents]` or `[agents, {version}]`. */
  applyFull(data: unknown): ListOutcome {
    const parsed = parseArgument(data);
    if (!parsed.ok) return { action: 'ignore', reason: parsed.reason };
    this.#entries.clear();
    for (const entry of parsed.agents) if (hasId(entry)) this.#entries.set(entry.id, entry as unknown as AgentInfo);
    this.#version = parsed.meta && this.#isHeld(parsed.meta.version) ? parsed.meta.version : undefined;
    return { action: 'apply', kind: 'full', agents: parsed.agents, disabled: parsed.meta?.disabled ?? [] };
  }

  /** A `dmr:agents:partial-list` argument: `[entries]` (live change, seed 003 style) or `[entries, {version, baseVersion}]`. */
  applyPartial(data: unknown): ListOutcome {
    const parsed = parseArgument(data);
    const isVersioned = this.#version !== undefined;
    if (!parsed.ok) return isVersioned ? { action: 'resync', reason: parsed.reason } : { action: 'ignore', reason: parsed.reason };
    const { meta, agents } = parsed;
    if (!meta) {
      if (isVersioned) return { action: 'resync', reason: 'an unversioned partial list while holding a versioned one' };
      applyEntries(this.#entries, agents);
      return { action: 'apply', kind: 'partial', agents, disabled: [] };
    }
    if (meta.baseVersion === undefined || meta.baseVersion !== this.#version) {
      return {
        action: 'resync',
        reason: `a partial list from version ${meta.baseVersion ?? 'none'}, but version ${this.#version ?? 'none'} is held`,
      };
    }
    // applied to a copy: a delta that does not lead to the version it names leaves the list held untouched
    const next = applyEntries(new Map(this.#entries), agents);
    if (agentListVersion(next.values()) !== meta.version) {
      return { action: 'resync', reason: `the list after a partial list is not version ${meta.version}` };
    }
    this.#entries = next;
    this.#version = meta.version;
    return { action: 'apply', kind: 'partial', agents, disabled: [] };
  }

  /** True when the entries held are exactly list `version`. */
  #isHeld(version: string): boolean {
    return agentListVersion(this.#entries.values()) === version;
  }
}

/** Applies partial entries to `entries` in place (`deleted: true` removes) and returns it. */
function applyEntries(entries: Map<string, AgentInfo>, agents: readonly unknown[]): Map<string, AgentInfo> {
  for (const entry of agents) {
    if (!hasId(entry)) continue;
    if (entry.deleted === true) entries.delete(entry.id);
    else entries.set(entry.id, entry as unknown as AgentInfo);
  }
  return entries;
}

type ParsedArgument =
  | { readonly ok: true; readonly agents: readonly unknown[]; readonly meta: AgentListMeta | undefined }
  | { readonly ok: false; readonly reason: string };

/**
 * `[agents]` or `[agents, meta]`; a second element that is not a well-formed meta is treated as none, and a
 * `disabled` member that is not a list keeps only its well-formed agent ids (it only changes which refusal is named).
 */
function parseArgument(data: unknown): ParsedArgument {
  const agents = Array.isArray(data) ? data[0] : undefined;
  if (!Array.isArray(agents)) return { ok: false, reason: 'the list is not [agents]' };
  const meta = (data as unknown[])[1];
  if (!isRecord(meta) || !isAgentListVersion(meta.version)) return { ok: true, agents, meta: undefined };
  const baseVersion = isAgentListVersion(meta.baseVersion) ? meta.baseVersion : undefined;
  const disabled = Array.isArray(meta.disabled) ? meta.disabled.filter((id): id is string => typeof id === 'string' && isAgentId(id)) : [];
  return {
    ok: true,
    agents,
    meta: {
      version: meta.version,
      ...(baseVersion === undefined ? {} : { baseVersion }),
      ...(disabled.length > 0 ? { disabled } : {}),
    },
  };
}

function hasId(entry: unknown): entry is Record<string, unknown> & { id: string } {
  return isRecord(entry) && typeof entry.id === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
