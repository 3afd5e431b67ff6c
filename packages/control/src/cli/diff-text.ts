// The diff of an import as people read it (pure): counts per collection, then `+` added, `~` changed with one line per
// field, `-` removed. Scripts take `--output json` instead, which is the DocumentDiff itself.
import type { DocumentDiff, FieldChange } from '../domain/index.js';
import { printable } from './table.js';

/** What to say after the diff: a dry run changed nothing, an import applied it at a config version. */
export type DiffOutcome = { readonly dryRun: true } | { readonly dryRun: false; readonly configVersion: number };

/** Longest value shown in a field line; longer ones (PEM certificates, policy documents) are summarised. */
const MAX_VALUE_WIDTH = 80;

/**
 * Renders a diff. `names` gives agent names for the `+` lines (from the imported document). Output ends with the
 * outcome: `dry run: nothing was applied` or `applied at configVersion N`.
 */
export function renderDiff(diff: DocumentDiff, outcome: DiffOutcome, names: ReadonlyMap<string, string> = new Map()): string {
  const lines: string[] = [];
  const agents = diff.agents;
  lines.push(`agents: ${counts(agents)}`);
  for (const id of agents.added) lines.push(`  + ${printable(id)}${names.has(id) ? `  (${printable(names.get(id) ?? '')})` : ''}`);
  for (const entry of agents.changed) lines.push(`  ~ ${printable(entry.key)}`, ...entry.fields.map(fieldLine));
  for (const id of agents.removed) lines.push(`  - ${printable(id)}`);
  const policies = diff.policies;
  lines.push(`policies: ${counts(policies)}`);
  for (const version of policies.added) lines.push(`  + version ${version}`);
  for (const entry of policies.changed) lines.push(`  ~ version ${entry.key}`, ...entry.fields.map(fieldLine));
  for (const version of policies.removed) lines.push(`  - version ${version}`);
  const isEmpty = [agents, policies].every((part) => part.added.length + part.changed.length + part.removed.length === 0);
  if (outcome.dryRun) lines.push(isEmpty ? 'dry run: no changes; nothing was applied' : 'dry run: nothing was applied');
  else
    lines.push(isEmpty ? `no changes; configVersion stays ${outcome.configVersion}` : `applied at configVersion ${outcome.configVersion}`);
  return `${lines.join('\n')}\n`;
}

function counts(part: DocumentDiff['agents'] | DocumentDiff['policies']): string {
  return `${part.added.length} added, ${part.changed.length} changed, ${part.removed.length} removed, ${part.unchanged} unchanged`;
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
