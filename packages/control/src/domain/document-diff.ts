// What an import would change (issue 18): agents and policy versions added, changed (field by field) and removed, between
// the control plane's current document and the one being imported. Pure; both sides are normalised documents
// (export-document.ts), so a default spelled out and a default left out compare equal.
import Type, { type Static } from 'typebox';
import type { NormalExportDocument } from './export-document.js';

/** One field that differs. `before` is absent when the field is new, `after` when it goes away. */
export const FieldChange = Type.Object({
  path: Type.String({ description: 'dotted path inside the entry: `name`, `labels.team`, `document.rules`, `labels["dmr.ee/tier"]`' }),
  before: Type.Optional(Type.Unknown()),
  after: Type.Optional(Type.Unknown()),
});

const changedEntry = <K extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(key: K) =>
  Type.Object({ key, fields: Type.Array(FieldChange) });

/** The diff of one collection, keys sorted. `unchanged` counts the entries present and equal on both sides. */
const collectionDiff = <K extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(key: K) =>
  Type.Object({
    added: Type.Array(key),
    changed: Type.Array(changedEntry(key)),
    removed: Type.Array(key),
    unchanged: Type.Integer({ minimum: 0 }),
  });

/** The whole diff: agents keyed by id, policies by version. What `POST /v1/import?dryRun=true` answers. */
export const DocumentDiff = Type.Object({
  agents: collectionDiff(Type.String()),
  policies: collectionDiff(Type.Integer({ minimum: 1 })),
});

/** What `POST /v1/import` answers: the diff it applied (or, with `dryRun`, would apply) and the resulting configVersion. */
export const ImportResult = Type.Object({
  dryRun: Type.Boolean(),
  configVersion: Type.Integer({ minimum: 0, description: 'after the import; unchanged by a dry run or an empty diff' }),
  diff: DocumentDiff,
});

export type FieldChange = Static<typeof FieldChange>;
export type DocumentDiff = Static<typeof DocumentDiff>;
export type ImportResult = Static<typeof ImportResult>;
/** The diff of one collection keyed by `K`. */
export interface CollectionDiff<K extends string | number> {
  readonly added: K[];
  readonly changed: { key: K; fields: FieldChange[] }[];
  readonly removed: K[];
  readonly unchanged: number;
}

/**
 * What importing `desired` into a control plane that holds `current` changes: agents absent from `desired` are removed
 * (the document is the whole registry), present ones compared field by field. Import-only metadata (`exportedAt`,
 * `configVersion`) is not compared.
 */
export function diffDocuments(current: NormalExportDocument, desired: NormalExportDocument): DocumentDiff {
  return {
    agents: diffCollections(current.agents, desired.agents, (agent) => agent.id),
    policies: diffCollections(current.policies, desired.policies, (policy) => policy.version),
  };
}

/** Diffs two lists of entries keyed by `keyOf` (unique on each side); the key field itself is not reported. */
export function diffCollections<T extends object, K extends string | number>(
  current: readonly T[],
  desired: readonly T[],
  keyOf: (entry: T) => K,
): CollectionDiff<K> {
  const before = new Map(current.map((entry) => [keyOf(entry), entry] as const));
  const after = new Map(desired.map((entry) => [keyOf(entry), entry] as const));
  const changed: { key: K; fields: FieldChange[] }[] = [];
  let unchanged = 0;
  for (const [key, entry] of after) {
    const old = before.get(key);
    if (old === undefined) continue;
    const fields = diffValues(old, entry);
    if (fields.length === 0) unchanged += 1;
    else changed.push({ key, fields });
  }
  return {
    added: sortKeys([...after.keys()].filter((key) => !before.has(key))),
    changed: changed.sort((a, b) => compareKeys(a.key, b.key)),
    removed: sortKeys([...before.keys()].filter((key) => !after.has(key))),
    unchanged,
  };
}

/**
 * The fields that differ between two JSON values: objects are compared key by key (recursively), anything else (arrays
 * included: a reordered list of groups is a change of the list) as a whole. Paths are dotted; a key that is not a plain
 * identifier is written `["key"]`.
 */
export function diffValues(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isJsonEqual(before, after)) return [];
  if (!isPlainObject(before) || !isPlainObject(after)) return [{ path, before, after }];
  const changes: FieldChange[] = [];
  for (const key of sortKeys([...new Set([...Object.keys(before), ...Object.keys(after)])])) {
    const inner = joinPath(path, key);
    if (!Object.hasOwn(after, key)) changes.push({ path: inner, before: before[key] });
    else if (!Object.hasOwn(before, key)) changes.push({ path: inner, after: after[key] });
    else changes.push(...diffValues(before[key], after[key], inner));
  }
  return changes;
}

/** True when the diff changes nothing: what an export imported straight back gives. */
export function isEmptyDiff(diff: DocumentDiff): boolean {
  return [diff.agents, diff.policies].every((part) => part.added.length + part.changed.length + part.removed.length === 0);
}

/** Equality of JSON values; object key order does not matter, array order does. */
export function isJsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => isJsonEqual(item, b[index]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && isJsonEqual(a[key], b[key]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function sortKeys<K extends string | number>(keys: K[]): K[] {
  return keys.sort(compareKeys);
}

function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
