// The whole registry and the policy as one document (`GET /v1/export`, `POST /v1/import`, `dmrctl export/import`):
// its checks and the diff an import makes. Pure.

import { type AgentFields, checkAgentFields, checkAgentId } from './agent-rules.js';
import { checkPolicyDocument } from './policy-rules.js';
import { type Checked, checkText, refuseField } from './text-rules.js';

/** The `format` member of every registry document this version reads and writes. */
export const REGISTRY_DOCUMENT_FORMAT = 'dmr-control/registry-v1';

/** One agent of a registry document: its id and fields; absent fields take the defaults of a new agent. */
export interface AgentEntry extends AgentFields {
  readonly id: string;
  readonly name: string;
}

/** An agent with every field present (what the store keeps, without times and revision). */
export interface FullAgentEntry {
  readonly id: string;
  readonly name: string;
  readonly institution: string;
  readonly contact: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly groups: readonly string[];
  readonly authenticationCertificate: string | null;
  readonly capabilities: readonly string[];
  readonly enabled: boolean;
}

/** The policy part of a registry document. */
export interface PolicyEntry {
  readonly document: Record<string, unknown>;
  readonly comment?: string;
}

/** A registry document as imported (export adds `exportedAt` and `configVersion`, which an import ignores). */
export interface RegistryDocument {
  readonly format: typeof REGISTRY_DOCUMENT_FORMAT;
  readonly exportedAt?: string;
  readonly configVersion?: number;
  readonly agents: readonly AgentEntry[];
  readonly policy?: PolicyEntry | null;
}

/** An import's document after its checks: every agent complete and its key canonical. */
export interface CheckedRegistry {
  readonly agents: readonly FullAgentEntry[];
  readonly policy: PolicyEntry | null | undefined;
}

/**
 * Checks a registry document whose shape the schema already checked: ids unique and not broker users, every agent's
 * fields ({@link checkAgentFields}), the policy ({@link checkPolicyDocument}). The first problem is refused naming
 * its field (`agents.998.id`), so an import is all or nothing before anything is written.
 */
export function checkRegistryDocument(document: RegistryDocument): Checked<CheckedRegistry> {
  const seen = new Map<string, number>();
  const agents: FullAgentEntry[] = [];
  for (const [index, entry] of document.agents.entries()) {
    const root = `agents.${index}`;
    const first = seen.get(entry.id);
    if (first !== undefined) return refuseField(`${root}.id`, `${root}.id "${entry.id}" is also agents.${first}.id: ids must be unique`);
    seen.set(entry.id, index);
    const id = checkAgentId(entry.id, root);
    if (!id.ok) return id;
    const fields = checkAgentFields(entry, entry.id, root);
    if (!fields.ok) return fields;
    agents.push(completeAgent(fields.value));
  }
  const policy = document.policy;
  if (policy === undefined || policy === null) return { ok: true, value: { agents, policy } };
  const checked = checkPolicyDocument(policy.document, 'policy.document');
  if (!checked.ok) return checked;
  if (policy.comment !== undefined) {
    const comment = checkText('policy.comment', policy.comment, { isMultiline: true, maxLength: 4096 });
    if (!comment.ok) return comment;
  }
  return { ok: true, value: { agents, policy } };
}

/** `entry` with the defaults of a new agent for each absent field (enabled, no key, no labels, groups or capabilities). */
export function completeAgent(entry: AgentEntry): FullAgentEntry {
  return {
    id: entry.id,
    name: entry.name,
    institution: entry.institution ?? '',
    contact: entry.contact ?? '',
    labels: entry.labels ?? {},
    groups: entry.groups ?? [],
    authenticationCertificate: entry.authenticationCertificate ?? null,
    capabilities: entry.capabilities ?? [],
    enabled: entry.enabled ?? true,
  };
}

/** The fields an import may change, in the order a diff lists them. */
export const AGENT_FIELDS = [
  'name',
  'institution',
  'contact',
  'labels',
  'groups',
  'authenticationCertificate',
  'capabilities',
  'enabled',
] as const satisfies readonly (keyof FullAgentEntry)[];

/** One changed agent: its id and the names of the fields that differ. */
export interface AgentChange {
  readonly id: string;
  readonly fields: readonly (typeof AGENT_FIELDS)[number][];
}

/** What an import does (or, with `?dryRun=true`, would do). */
export interface RegistryDiff {
  readonly agents: {
    readonly added: readonly string[];
    readonly changed: readonly AgentChange[];
    /** Only with `prune`: agents in the registry that the document does not list. */
    readonly removed: readonly string[];
    readonly unchanged: number;
  };
  /** `added`: the first policy; `changed`: a new version; `unchanged`: the document equals the latest version. */
  readonly policy: 'added' | 'changed' | 'unchanged' | 'absent';
}

/**
 * The diff of importing `incoming` over the `current` registry (every agent) and latest policy document. Without
 * `prune` the import only adds and updates; with it, agents the document does not list are removed too.
 */
export function diffRegistry(
  current: { readonly agents: readonly FullAgentEntry[]; readonly policyDocument: unknown },
  incoming: CheckedRegistry,
  options: { readonly prune: boolean },
): RegistryDiff {
  const byId = new Map(current.agents.map((agent) => [agent.id, agent]));
  const added: string[] = [];
  const changed: AgentChange[] = [];
  let unchanged = 0;
  for (const agent of incoming.agents) {
    const before = byId.get(agent.id);
    if (before === undefined) added.push(agent.id);
    else {
      const fields = AGENT_FIELDS.filter((field) => !sameJson(before[field], agent[field]));
      if (fields.length > 0) changed.push({ id: agent.id, fields });
      else unchanged++;
    }
  }
  const listed = new Set(incoming.agents.map((agent) => agent.id));
  const removed = options.prune ? current.agents.filter((agent) => !listed.has(agent.id)).map((agent) => agent.id) : [];
  return { agents: { added, changed, removed, unchanged }, policy: policyChange(current.policyDocument, incoming.policy) };
}

function policyChange(current: unknown, incoming: PolicyEntry | null | undefined): RegistryDiff['policy'] {
  if (incoming === undefined || incoming === null) return 'absent';
  if (current === undefined) return 'added';
  return sameJson(current, incoming.document) ? 'unchanged' : 'changed';
}

/** Equal as JSON values, object keys in any order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return sortedJson(a) === sortedJson(b);
}

function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
