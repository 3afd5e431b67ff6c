// Canonical JSON (RFC 8785 style: object keys sorted by UTF-16 code units, no whitespace, ECMAScript number and
// string forms) and its SHA-256: the change log's before/after hashes, stable across engines and key orders.

import { createHash } from 'node:crypto';

/**
 * Serialises `value` as canonical JSON: objects with their keys sorted (by UTF-16 code units, as RFC 8785),
 * arrays in order, primitives as `JSON.stringify` writes them. Properties whose value is undefined or a
 * function are left out, as JSON does; `toJSON` (e.g. of a Date) is honoured.
 *
 * @throws TypeError for a bigint, a non-finite number or a cycle (they have no JSON form that round-trips).
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, new Set());
}

/**
 * SHA-256 (lowercase hex) of {@link canonicalJson}(value), or null for undefined and null: "no record".
 *
 * @throws TypeError as {@link canonicalJson}.
 */
export function canonicalSha256(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

function serialise(value: unknown, path: Set<object>): string {
  const plain = toPlain(value);
  if (plain === null || typeof plain !== 'object') return primitive(plain);
  if (path.has(plain)) throw new TypeError('canonicalJson: the value has a cycle');
  path.add(plain);
  try {
    return Array.isArray(plain) ? serialiseArray(plain, path) : serialiseObject(plain as Record<string, unknown>, path);
  } finally {
    path.delete(plain);
  }
}

function toPlain(value: unknown): unknown {
  const withToJson = value as { toJSON?: () => unknown } | null;
  return typeof withToJson?.toJSON === 'function' ? withToJson.toJSON() : value;
}

function primitive(value: unknown): string {
  if (typeof value === 'bigint') throw new TypeError('canonicalJson: bigint has no JSON form');
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
  // undefined, functions and symbols in arrays become null, as in JSON.stringify
  return JSON.stringify(value) ?? 'null';
}

function serialiseArray(items: readonly unknown[], path: Set<object>): string {
  return `[${items.map((item) => serialise(item, path)).join(',')}]`;
}

function serialiseObject(record: Record<string, unknown>, path: Set<object>): string {
  const keys = Object.keys(record)
    .filter((key) => isJsonValue(record[key]))
    .sort(compareCodeUnits);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${serialise(record[key], path)}`).join(',')}}`;
}

function isJsonValue(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

// Array.prototype.sort's default order is by UTF-16 code units, which RFC 8785 asks for; spelled out to keep
// a locale-aware comparison from ever creeping in.
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
