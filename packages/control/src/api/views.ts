import type { FullAgentEntry } from '../domain/index.js';
import type { AgentRecord, ChangeRecord, PolicyRecord, ServerRecord } from '../store/index.js';

/** An agent as the admin API shows it (the record as stored; a key is public material). */
export function agentView(record: AgentRecord): Record<string, unknown> {
  return {
    id: record.id,
    name: record.name,
    institution: record.institution,
    contact: record.contact,
    labels: record.labels,
    groups: record.groups,
    authenticationCertificate: record.authenticationCertificate,
    capabilities: record.capabilities,
    enabled: record.enabled,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    revision: record.revision,
  };
}

/** The registry-document form of an agent (what export writes and import reads). */
export function agentEntry(record: AgentRecord): FullAgentEntry {
  return {
    id: record.id,
    name: record.name,
    institution: record.institution,
    contact: record.contact,
    labels: record.labels,
    groups: record.groups,
    authenticationCertificate: record.authenticationCertificate,
    capabilities: record.capabilities,
    enabled: record.enabled,
  };
}

/** The strong ETag of an agent revision: `"<revision>"`. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

/** A server instance as the admin API shows it. */
export function serverView(record: ServerRecord): Record<string, unknown> {
  return {
    instanceId: record.instanceId,
    name: record.name,
    firstSeenAt: record.firstSeenAt,
    lastSyncAt: record.lastSyncAt,
    configVersion: record.configVersion,
    crlNumbers: record.crlNumbers,
    version: record.softwareVersion,
    startedAt: record.startedAt,
  };
}

/** A policy version as the admin API shows it. */
export function policyView(record: PolicyRecord): Record<string, unknown> {
  return {
    version: record.version,
    document: record.document,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    comment: record.comment,
  };
}

/** A change log entry as the admin API shows it. */
export function changeView(record: ChangeRecord): Record<string, unknown> {
  return { ...record };
}
