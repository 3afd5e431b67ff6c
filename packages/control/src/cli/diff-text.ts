// What `POST /v1/import` answers, checked, and the diff as people read it (pure): counts, then `+` added, `~` changed
// with one line per field (from → to, when the values are known: a dry run reads them), `-` removed, then the policy.
// Scripts take `--output json` instead, which is the API's answer itself.
import { DmrError } from '@dmr/shared/base';
import { diffValues, type FieldChange } from './field-diff.js';
import { printable } from './table.js';

/** What an import does to the policy: the API's own words. */
export const POLICY_OUTCOMES = ['added', 'changed', 'unchanged', 'absent'] as const;

/** The diff `POST /v1/import` answers: agent ids (and the names of changed fields) and what happens to the policy. */
export interface ImportDiff {
  readonly agents: {
    readonly added: readonly string[];
    readonly changed: readonly { readonly id: string; readonly fields: readonly string[] }[];
    readonly removed: readonly string[];
    readonly unchanged: number;
  };
  readonly policy: (typeof POLICY_OUTCOMES)[number];
}

/** The whole answer of `POST /v1/import`. */
export interface ImportAnswer {
  readonly dryRun: boolean;
  readonly configVersion: number;
  readonly diff: ImportDiff;
}

/** Checks the answer's shape (the fields this renderer reads). Throws `DMR_CLI_API_RESPONSE_INVALID` otherwise. */
export function parseImportAnswer(value: unknown): ImportAnswer {
  const answer = value as Partial<ImportAnswer> | undefined;
  const agents = answer?.diff?.agents;
  const isStrings = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item === 'string');
  const isValid =
    typeof answer?.dryRun === 'boolean' &&
    typeof answer.configVersion === 'number' &&
    isStrings(agents?.added) &&
    isStrings(agents?.removed) &&
    typeof agents?.unchanged === 'number' &&
    Array.isArray(agents.changed) &&
    agents.changed.every((entry) => typeof entry?.id === 'string' && isStrings(entry.fields)) &&
    POLICY_OUTCOMES.includes(answer.diff?.policy as ImportDiff['policy']);
  if (!isValid)
    throw new DmrError('DMR_CLI_API_RESPONSE_INVALID', 'POST /v1/import answered something that is not {dryRun, configVersion, diff}');
  return answer as ImportAnswer;
}

/** The values a dry run shows: each side's agents by id and policy document, and the registry's agents the document omits. */
export interface DiffValues {
  readonly currentAgents: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  readonly desiredAgents: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  readonly currentPolicy: unknown;
  readonly desiredPolicy: unknown;
}

/** How to render: names of added agents, values for field lines, and whether agents the document omits were pruned. */
export interface RenderOptions {
  readonly values?: DiffValues;
  readonly unlisted?: readonly string[];
}

/** Longest value shown in a field line; longer ones (PEM text, policy documents) are summarised. */
const MAX_VALUE_WIDTH = 80;

/** Renders an import's answer; ends with `dry run: nothing was applied` or `applied at configVersion N`. */
export function renderImport(answer: ImportAnswer, options: RenderOptions = {}): string {
  const { agents, policy } = answer.diff;
  const values = options.values;
  const lines = [
    `agents: ${agents.added.length} added, ${agents.changed.length} changed, ${agents.removed.length} removed, ${agents.unchanged} unchanged`,
  ];
  for (const id of agents.added) {
    const name = values?.desiredAgents.get(id)?.name;
    lines.push(`  + ${printable(id)}${typeof name === 'string' ? `  (${printable(name)})` : ''}`);
  }
  for (const { id, fields } of agents.changed) {
    lines.push(`  ~ ${printable(id)}: ${fields.map((field) => printable(field)).join(', ')}`);
    if (values) lines.push(...agentFieldChanges(values, id, fields).map(fieldLine));
  }
  for (const id of agents.removed) lines.push(`  - ${printable(id)}`);
  const unlisted = options.unlisted ?? [];
  if (unlisted.length > 0)
    lines.push(`  (${unlisted.length} agent(s) of the registry are not in the document and stay: --prune removes them)`);
  lines.push(`policy: ${policyText(policy)}`);
  if (policy === 'changed' && values) lines.push(...diffValues(values.currentPolicy, values.desiredPolicy, 'document').map(fieldLine));
  const isEmpty =
    agents.added.length + agents.changed.length + agents.removed.length === 0 && (policy === 'unchanged' || policy === 'absent');
  if (answer.dryRun) lines.push(isEmpty ? 'dry run: no changes; nothing was applied' : 'dry run: nothing was applied');
  else lines.push(isEmpty ? `no changes; configVersion stays ${answer.configVersion}` : `applied at configVersion ${answer.configVersion}`);
  return `${lines.join('\n')}\n`;
}

function agentFieldChanges(values: DiffValues, id: string, fields: readonly string[]): FieldChange[] {
  const before = values.currentAgents.get(id) ?? {};
  const after = values.desiredAgents.get(id) ?? {};
  return fields.flatMap((field) => diffValues(before[field], after[field], field));
}

function policyText(policy: ImportDiff['policy']): string {
  switch (policy) {
    case 'added':
      return 'added (the first version)';
    case 'changed':
      return 'changed (stored as a new version)';
    case 'unchanged':
      return 'unchanged';
    case 'absent':
      return 'not in the document (stays as it is)';
  }
}

/** `      name: "Old" → "New"`; an absent side shows as `(none)`. */
export function fieldLine(change: FieldChange): string {
  const before = Object.hasOwn(change, 'before') ? valueText(change.before) : '(none)';
  const after = Object.hasOwn(change, 'after') ? valueText(change.after) : '(none)';
  return `      ${printable(change.path === '' ? '(whole value)' : change.path)}: ${before} → ${after}`;
}

/** A value in a field line: JSON, on one line; a PEM block or anything long is summarised by kind and size. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') {
    const pem = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(value.trim());
    if (pem !== null) return `${pem[1]?.toLowerCase()} (PEM, ${value.length} characters)`;
  }
  const json = JSON.stringify(value) ?? 'undefined';
  if (json.length <= MAX_VALUE_WIDTH) return printable(json);
  const kind = Array.isArray(value) ? `list of ${value.length}` : typeof value === 'object' && value !== null ? 'object' : typeof value;
  return `${printable(json.slice(0, MAX_VALUE_WIDTH - 1))}… (${kind}, ${json.length} characters)`;
}
