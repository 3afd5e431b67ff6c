import {
  type AgentInfo,
  type CentOpsAgent,
  CentOpsConfiguration,
  compileValidator,
  type FieldError,
  importPublicKey,
  type PublicKeyRef,
  type Result,
  reservedAgentIdProblem,
  toDmrError,
} from '@dmr/shared';

/** One registered agent with its key imported once. */
export interface RegisteredAgent {
  readonly info: AgentInfo;
  readonly key: PublicKeyRef;
}

/** The registry in force: agents by id. */
export type RegistrySnapshot = ReadonlyMap<string, RegisteredAgent>;

/**
 * What changed between two snapshots. `rekeyed` agents (another public key) must reconnect; `removed` ones are cut off.
 * A renewed certificate with the same key is an update: queued messages stay decryptable and the agent stays connected.
 */
export interface RegistryDiff {
  readonly added: readonly RegisteredAgent[];
  readonly updated: readonly RegisteredAgent[];
  readonly rekeyed: readonly RegisteredAgent[];
  readonly removed: readonly AgentInfo[];
}

const validateConfiguration = compileValidator<CentOpsConfiguration>(CentOpsConfiguration, 'DMR_REGISTRY_INVALID');

/** What the policy reads about an agent from its registry entry (docs/policy.md "Input"). */
export interface AgentAttributes {
  /** `''` when the entry names none. */
  readonly institution: string;
  /** `[]` when the entry lists none. */
  readonly groups: readonly string[];
}

/** The attributes of an entry without `institution` and `groups`. */
export const NO_ATTRIBUTES: AgentAttributes = Object.freeze({ institution: '', groups: Object.freeze([]) as readonly string[] });

/** A validated CentOps document: the agents and, from dmr-control's `dmr` member, the config version and disabled agents. */
export interface ParsedRegistry {
  readonly agents: RegistrySnapshot;
  /** `dmr.configVersion`; undefined for a document without the member (seed 003, a real CentOps). */
  readonly configVersion: number | undefined;
  /** `dmr.disabled`: agents the control plane disabled (never in `agents`). */
  readonly disabled: ReadonlySet<string>;
  /** Issue 19: `institution` and `groups` of the agents whose entry lists either (others have {@link NO_ATTRIBUTES}). */
  readonly attributes: ReadonlyMap<string, AgentAttributes>;
}

/**
 * Validates a CentOps document completely (schema, unique ids, no id that names a RabbitMQ user, every key
 * importable) or refuses it whole. `reservedIds`: deployment broker user names beyond the built-in ones.
 */
export function parseRegistry(document: unknown, reservedIds: readonly string[] = []): Result<RegistrySnapshot> {
  const parsed = parseRegistryDocument(document, reservedIds);
  return parsed.ok ? { ok: true, value: parsed.value.agents } : parsed;
}

/**
 * {@link parseRegistry} plus dmr-control's optional `dmr` member (docs/control-plane.md): `configVersion` and the
 * `disabled` ids. An id both listed in `response` and disabled is a contradiction, refused like any invalid field.
 */
export function parseRegistryDocument(document: unknown, reservedIds: readonly string[] = []): Result<ParsedRegistry> {
  const checked = validateConfiguration(document);
  if (!checked.ok) return checked;
  const errors: FieldError[] = [];
  const agents = collectAgents(checked.value.response, reservedIds, errors);
  const disabled = new Set(checked.value.dmr?.disabled ?? []);
  (checked.value.dmr?.disabled ?? []).forEach((id, index) => {
    if (agents.has(id)) errors.push({ path: `dmr.disabled.${index}`, message: `agent ${id} is listed both in response and as disabled` });
  });
  if (errors.length > 0) return { ok: false, code: 'DMR_REGISTRY_INVALID', errors };
  return {
    ok: true,
    value: { agents, configVersion: checked.value.dmr?.configVersion, disabled, attributes: attributesOf(checked.value.response) },
  };
}

/** The policy attributes of the entries that list any; kept apart from AgentInfo, which agents receive as seed 003 has it. */
function attributesOf(entries: readonly CentOpsAgent[]): Map<string, AgentAttributes> {
  const attributes = new Map<string, AgentAttributes>();
  for (const entry of entries) {
    if (entry.institution === undefined && entry.groups === undefined) continue;
    attributes.set(entry.id, Object.freeze({ institution: entry.institution ?? '', groups: Object.freeze([...(entry.groups ?? [])]) }));
  }
  return attributes;
}

function collectAgents(
  entries: readonly CentOpsAgent[],
  reservedIds: readonly string[],
  errors: FieldError[],
): Map<string, RegisteredAgent> {
  const agents = new Map<string, RegisteredAgent>();
  entries.forEach((entry, index) => {
    if (agents.has(entry.id)) {
      errors.push({ path: `response.${index}.id`, message: `duplicate agent id ${entry.id}` });
      return;
    }
    const reserved = reservedAgentIdProblem(entry.id, reservedIds);
    if (reserved !== undefined) {
      errors.push({ path: `response.${index}.id`, message: reserved });
      return;
    }
    try {
      agents.set(entry.id, { info: agentInfoOf(entry), key: importPublicKey(entry.authentication_certificate) });
    } catch (error) {
      errors.push({ path: `response.${index}.authentication_certificate`, message: toDmrError(error).message });
    }
  });
  return agents;
}

function agentInfoOf(entry: CentOpsAgent): AgentInfo {
  return {
    id: entry.id,
    name: entry.name,
    authenticationCertificate: entry.authentication_certificate,
    createdAt: entry.created_at,
    updatedAt: entry.updated_at,
    // only when listed: seed-003 agents get the entry exactly as before
    ...(entry.capabilities === undefined ? {} : { capabilities: entry.capabilities }),
  };
}

/** Pure diff of two snapshots. */
export function diffRegistry(previous: RegistrySnapshot, next: RegistrySnapshot): RegistryDiff {
  const added: RegisteredAgent[] = [];
  const updated: RegisteredAgent[] = [];
  const rekeyed: RegisteredAgent[] = [];
  for (const [id, agent] of next) {
    const before = previous.get(id);
    if (!before) added.push(agent);
    else if (!hasSameKey(before, agent)) rekeyed.push(agent);
    else if (!isSameListing(before.info, agent.info)) updated.push(agent);
  }
  const removed = [...previous.values()].filter((agent) => !next.has(agent.info.id)).map((agent) => agent.info);
  return { added, updated, rekeyed, removed };
}

/**
 * True when both entries carry the same public key (SubjectPublicKeyInfo), whatever the PEM around it: a certificate
 * renewed for the same key pair, a certificate replacing the bare key it certifies, or the same key re-encoded.
 */
export function hasSameKey(a: RegisteredAgent, b: RegisteredAgent): boolean {
  return a.info.authenticationCertificate === b.info.authenticationCertificate || a.key.key.equals(b.key.key);
}

/** True when two entries list the same key under the same name and dates (every field of the agent list version). */
function isSameListing(a: AgentInfo, b: AgentInfo): boolean {
  return (
    a.authenticationCertificate === b.authenticationCertificate &&
    a.name === b.name &&
    a.createdAt === b.createdAt &&
    a.updatedAt === b.updatedAt &&
    sameCapabilities(a.capabilities, b.capabilities)
  );
}

/**
 * `next` with every agent listed exactly as in `previous` replaced by `previous`'s object, so snapshots kept for
 * deltas share their unchanged entries (certificates included) instead of holding a copy each. Pure.
 */
export function internUnchanged(previous: RegistrySnapshot, next: RegistrySnapshot): RegistrySnapshot {
  const interned = new Map<string, RegisteredAgent>();
  for (const [id, agent] of next) {
    const before = previous.get(id);
    interned.set(id, before && isSameListing(before.info, agent.info) ? before : agent);
  }
  return interned;
}

/** True when nothing changed. */
export function isEmptyDiff(diff: RegistryDiff): boolean {
  return diff.added.length + diff.updated.length + diff.rekeyed.length + diff.removed.length === 0;
}

/**
 * The `partial-list` entries for a diff: changed agents, and removed ones flagged `deleted: true` (plus
 * `disabled: true` when `isDisabled` says the control plane disabled them, so agents can name the refusal).
 */
export function partialListOf(diff: RegistryDiff, isDisabled: (agentId: string) => boolean = () => false): AgentInfo[] {
  const changed = [...diff.added, ...diff.updated, ...diff.rekeyed].map((agent) => agent.info);
  const removed = diff.removed.map((info) =>
    isDisabled(info.id) ? { ...info, deleted: true, disabled: true } : { ...info, deleted: true },
  );
  return [...changed, ...removed];
}

/** Whether two capability lists (absent = none) announce the same set. */
function sameCapabilities(a: readonly string[] = [], b: readonly string[] = []): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((capability) => set.has(capability));
}
