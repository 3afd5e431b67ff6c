// The tables as Kysely sees them. Same columns in both engines: times are ISO text, booleans are 0/1 integers,
// JSON values are text; PostgreSQL's bigint columns come back as strings and are read with Number().

import type { Generated } from 'kysely';
import type { AuditEntryTable, AuditTreeHeadTable } from './audit-schema.js';
import type { CrlTable, ServiceTokenTable } from './lifecycle-schema.js';

/** `counters`: named integers (`config_version`, `policy_version`). */
export interface CounterTable {
  name: string;
  value: number | string;
}

/** `agents`: the registry. groups and labels live in their own tables so that filters are plain SQL. */
export interface AgentTable {
  id: string;
  name: string;
  institution: string;
  contact: string;
  authentication_certificate: string | null;
  /** JSON array of strings. */
  capabilities: string;
  enabled: number;
  created_at: string;
  updated_at: string;
  revision: number;
}

/** `agent_groups`: one row per (agent, group); `position` keeps the order given. */
export interface AgentGroupTable {
  agent_id: string;
  group_name: string;
  position: number;
}

/** `agent_labels`: one row per (agent, key). */
export interface AgentLabelTable {
  agent_id: string;
  label_key: string;
  label_value: string;
}

/** `certificates`: every certificate a CA of this control plane issued. */
export interface CertificateTable {
  serial: string;
  ca_id: string;
  subject_kind: string;
  subject_id: string;
  not_before: string;
  not_after: string;
  pem: string;
  public_key_sha256: string;
  issued_at: string;
  revoked_at: string | null;
  revocation_reason: string | null;
}

/** `ca_state`: per-CA counters. */
export interface CaStateTable {
  ca_id: string;
  last_serial: number | string;
  last_crl_number: number | string;
  updated_at: string;
}

/** `enrollment_tokens`: hashes only. */
export interface EnrollmentTokenTable {
  token_hash: string;
  agent_id: string;
  created_at: string;
  expires_at: string;
  created_by: string;
  used_at: string | null;
}

/** `policies`: versioned documents. */
export interface PolicyTable {
  version: number;
  /** JSON text. */
  document: string;
  created_at: string;
  created_by: string;
  comment: string;
}

/** `servers`: the last report of each server instance. */
export interface ServerTable {
  instance_id: string;
  name: string;
  first_seen_at: string;
  last_sync_at: string;
  config_version: number | string;
  /** JSON text. */
  crl_numbers: string;
  software_version: string;
  started_at: string | null;
}

/** `change_log`: append-only (triggers refuse UPDATE and DELETE). */
export interface ChangeLogTable {
  seq: Generated<number | string>;
  at: string;
  actor_subject: string;
  actor_role: string;
  action: string;
  subject_kind: string;
  subject_id: string | null;
  before_hash: string | null;
  after_hash: string | null;
  config_version: number | string;
  outcome: string;
  code: string | null;
}

/** The whole database. */
export interface ControlDatabase {
  counters: CounterTable;
  agents: AgentTable;
  agent_groups: AgentGroupTable;
  agent_labels: AgentLabelTable;
  certificates: CertificateTable;
  ca_state: CaStateTable;
  enrollment_tokens: EnrollmentTokenTable;
  policies: PolicyTable;
  servers: ServerTable;
  change_log: ChangeLogTable;
  crls: CrlTable;
  service_enrollment_tokens: ServiceTokenTable;
  audit_entries: AuditEntryTable;
  audit_tree_heads: AuditTreeHeadTable;
}
