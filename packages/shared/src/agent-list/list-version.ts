import { createHash } from 'node:crypto';
import type { AgentInfo } from '../protocol.js';

/**
 * The version of an agent list: lowercase hex SHA-256 of its canonical form, i.e. the JSON array of
 * `[id, name, authenticationCertificate, createdAt, updatedAt]` tuples sorted by id (UTF-16 code-unit order), each
 * followed by the entry's sorted `capabilities` when it lists any (a capability change alone is a new version).
 *
 * A content hash rather than a counter because server instances share no state: every instance that loaded the
 * same registry derives the same version, so an agent that reconnects to another instance (a failover) is still
 * served a delta or nothing. The order of the registry document and its formatting do not count; `deleted` entries
 * never belong to a list. Agents recompute it after applying a delta to prove they hold exactly the server's list.
 */
export function agentListVersion(agents: Iterable<AgentInfo>): string {
  const tuples = [...agents]
    .map((agent) => {
      const tuple: unknown[] = [agent.id, agent.name, agent.authenticationCertificate, agent.createdAt, agent.updatedAt];
      if (agent.capabilities !== undefined && agent.capabilities.length > 0) tuple.push([...agent.capabilities].sort());
      return tuple as [string, ...unknown[]];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(tuples)).digest('hex');
}

/** What a version looks like on the wire (handshake field and list metadata): 64 lowercase hex digits. */
export const AGENT_LIST_VERSION_PATTERN = /^[0-9a-f]{64}$/;

/** True when `value` is a well-formed agent list version. */
export function isAgentListVersion(value: unknown): value is string {
  return typeof value === 'string' && AGENT_LIST_VERSION_PATTERN.test(value);
}
