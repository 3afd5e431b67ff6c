// The rules an agent entry must meet beyond its JSON schema (which fixes the fields, types and lengths). Pure.

import { reservedAgentIdProblem } from '@dmr/shared/base';
import { canonicalAuthenticationKey } from './authentication-key.js';
import { type Checked, checkText, findTextProblem, joinPath, refuseField } from './text-rules.js';

/** Label keys: lowercase letters, digits and `._/-`, starting and ending with a letter or digit (Kubernetes-like). */
export const LABEL_KEY_PATTERN = '^[a-z0-9](?:[a-z0-9._/-]{0,62}[a-z0-9])?$';
/**
 * Label values (Kubernetes label values): empty, or 1-63 letters, digits and `._-` starting and ending with a letter or
 * digit. A grammar, not free text: label values are matched by filters and carried into policy input, so they stay
 * plain tokens (an institution's name, with its apostrophes and semicolons, belongs in `institution`).
 */
export const LABEL_VALUE_PATTERN = '^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$';
/** Group names: the agent id alphabet plus `.` and `:`. */
export const GROUP_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
/** Most labels, groups per agent. */
export const MAX_LABELS = 64;
export const MAX_GROUPS = 64;

/** An agent's editable fields as the admin API takes them (camelCase); every one optional as in a PATCH. */
export interface AgentFields {
  readonly name?: string;
  readonly institution?: string;
  readonly contact?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly groups?: readonly string[];
  readonly authenticationCertificate?: string | null;
  readonly capabilities?: readonly string[];
  readonly enabled?: boolean;
}

/**
 * Checks what the schema cannot: no id names a RabbitMQ user, every string is acceptable text, the key is RSA ≥ 2048
 * or EC P-256 (and a certificate names this agent). Returns the fields with the key in canonical PEM, or the
 * refusal of the first bad field under `root` (`''` for a request body, `agents.12` inside an import).
 */
export function checkAgentFields<T extends AgentFields>(fields: T, agentId: string, root = ''): Checked<T> {
  const textProblem = findTextProblem({ ...fields, authenticationCertificate: undefined }, root, { maxLength: 256 });
  if (textProblem) return textProblem;
  const key = fields.authenticationCertificate;
  if (key === undefined || key === null) return { ok: true, value: fields };
  const field = joinPath(root, 'authenticationCertificate');
  const text = checkText(field, key, { isMultiline: true, maxLength: 16_384 });
  if (!text.ok) return text;
  const canonical = canonicalAuthenticationKey(key, agentId);
  if (!canonical.ok) return refuseField(field, `${field} ${canonical.problem}`);
  return { ok: true, value: { ...fields, authenticationCertificate: canonical.pem } };
}

/** Refuses an agent id that names a RabbitMQ user (agent certificates carry CN = agent id). */
export function checkAgentId(agentId: string, root = ''): Checked<string> {
  const problem = reservedAgentIdProblem(agentId);
  return problem === undefined ? { ok: true, value: agentId } : refuseField(joinPath(root, 'id'), problem);
}
