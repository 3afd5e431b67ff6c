// Field-level differences between two JSON values (pure): what `dmrctl import --dry-run` shows under each changed agent
// and a changed policy. The API's diff says which records and fields change; this says from what to what.

/** One field that differs. `before` is absent when the field is new, `after` when it goes away. */
export interface FieldChange {
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/**
 * The fields that differ between two JSON values: objects are compared key by key (recursively, keys in code-unit
 * order), anything else (arrays included: a reordered list of groups is a change of the list) as a whole. Paths are
 * dotted below `path`; a key that is not a plain identifier is written `["key"]`.
 */
export function diffValues(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isJsonEqual(before, after)) return [];
  if (!isPlainObject(before) || !isPlainObject(after)) return [{ path, before, after }];
  const changes: FieldChange[] = [];
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareText)) {
    const inner = joinPath(path, key);
    if (!Object.hasOwn(after, key)) changes.push({ path: inner, before: before[key] });
    else if (!Object.hasOwn(before, key)) changes.push({ path: inner, after: after[key] });
    else changes.push(...diffValues(before[key], after[key], inner));
  }
  return changes;
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

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
