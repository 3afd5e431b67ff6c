// Agent rows ↔ records: the registry row plus its group and label rows.

import type { Selectable } from 'kysely';
import type { AgentInput, AgentPatch, AgentRecord } from './records.js';
import type { AgentGroupTable, AgentLabelTable, AgentTable } from './schema.js';

/** An `agents` row as read. */
export type AgentRow = Selectable<AgentTable>;

/** Builds the record from its row and its (already ordered) group and label rows. */
export function toAgentRecord(
  row: AgentRow,
  groups: readonly Pick<AgentGroupTable, 'group_name'>[],
  labels: readonly Pick<AgentLabelTable, 'label_key' | 'label_value'>[],
): AgentRecord {
  return {
    id: row.id,
    name: row.name,
    institution: row.institution,
    contact: row.contact,
    // fromEntries defines own properties: a `__proto__` label key stays a label
    labels: Object.fromEntries(labels.map((label) => [label.label_key, label.label_value])),
    groups: groups.map((group) => group.group_name),
    authenticationCertificate: row.authentication_certificate,
    capabilities: JSON.parse(row.capabilities) as string[],
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revision: row.revision,
  };
}

/** The `agents` row of a new agent. */
export function newAgentRow(input: AgentInput, now: string): AgentRow {
  return {
    id: input.id,
    name: input.name,
    institution: input.institution,
    contact: input.contact,
    authentication_certificate: input.authenticationCertificate,
    capabilities: JSON.stringify(input.capabilities),
    enabled: input.enabled ? 1 : 0,
    created_at: now,
    updated_at: now,
    revision: 1,
  };
}

/** The columns a patch sets (groups and labels are rows of their own). */
export function patchColumns(patch: AgentPatch): Partial<AgentRow> {
  const columns: Partial<AgentRow> = {};
  if (patch.name !== undefined) columns.name = patch.name;
  if (patch.institution !== undefined) columns.institution = patch.institution;
  if (patch.contact !== undefined) columns.contact = patch.contact;
  if (patch.authenticationCertificate !== undefined) columns.authentication_certificate = patch.authenticationCertificate;
  if (patch.capabilities !== undefined) columns.capabilities = JSON.stringify(patch.capabilities);
  if (patch.enabled !== undefined) columns.enabled = patch.enabled ? 1 : 0;
  return columns;
}

/** Group names without repeats, first occurrence kept. */
export function uniqueGroups(groups: readonly string[]): string[] {
  return [...new Set(groups)];
}
