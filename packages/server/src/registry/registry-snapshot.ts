import {
  type AgentInfo,
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

/** What changed between two snapshots. `rekeyed` agents must reconnect; `removed` ones are cut off. */
export interface RegistryDiff {
  readonly added: readonly RegisteredAgent[];
  readonly updated: readonly RegisteredAgent[];
  readonly rekeyed: readonly RegisteredAgent[];
  readonly removed: readonly AgentInfo[];
}

const validateConfiguration = compileValidator<CentOpsConfiguration>(CentOpsConfiguration, 'DMR_REGISTRY_INVALID');

/**
 * Validates a CentOps document completely (schema, unique ids, no id that names a RabbitMQ user, every key
 * importable) or refuses it whole. `reservedIds`: deployment broker user names beyond the built-in ones.
 */
export function parseRegistry(document: unknown, reservedIds: readonly string[] = []): Result<RegistrySnapshot> {
  const checked = validateConfiguration(document);
  if (!checked.ok) return checked;
  const agents = new Map<string, RegisteredAgent>();
  const errors: FieldError[] = [];
  checked.value.response.forEach((entry, index) => {
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
      const key = importPublicKey(entry.authentication_certificate);
      const info: AgentInfo = {
        id: entry.id,
        name: entry.name,
        authenticationCertificate: entry.authentication_certificate,
        createdAt: entry.created_at,
        updatedAt: entry.updated_at,
        // only when listed: seed-003 agents get the entry exactly as before
        ...(entry.capabilities === undefined ? {} : { capabilities: entry.capabilities }),
      };
      agents.set(entry.id, { info, key });
    } catch (error) {
      errors.push({ path: `response.${index}.authentication_certificate`, message: toDmrError(error).message });
    }
  });
  if (errors.length > 0) return { ok: false, code: 'DMR_REGISTRY_INVALID', errors };
  return { ok: true, value: agents };
}

/** Pure diff of two snapshots. */
export function diffRegistry(previous: RegistrySnapshot, next: RegistrySnapshot): RegistryDiff {
  const added: RegisteredAgent[] = [];
  const updated: RegisteredAgent[] = [];
  const rekeyed: RegisteredAgent[] = [];
  for (const [id, agent] of next) {
    const before = previous.get(id);
    if (!before) added.push(agent);
    else if (before.info.authenticationCertificate !== agent.info.authenticationCertificate) rekeyed.push(agent);
    else if (!isSameListing(before.info, agent.info)) updated.push(agent);
  }
  const removed = [...previous.values()].filter((agent) => !next.has(agent.info.id)).map((agent) => agent.info);
  return { added, updated, rekeyed, removed };
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

/** The `partial-list` entries for a diff: changed agents, and removed ones flagged `deleted: true`. */
export function partialListOf(diff: RegistryDiff): AgentInfo[] {
  const changed = [...diff.added, ...diff.updated, ...diff.rekeyed].map((agent) => agent.info);
  return [...changed, ...diff.removed.map((info) => ({ ...info, deleted: true }))];
}

/** Whether two capability lists (absent = none) announce the same set. */
function sameCapabilities(a: readonly string[] = [], b: readonly string[] = []): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((capability) => set.has(capability));
}
