// Small checks shared by the policy parser. Pure.

import { POLICY_NAME_PATTERN } from './document.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const LONE_SURROGATE_TEST = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A refusal naming the first bad field. */
export interface Refusal {
  readonly ok: false;
  readonly field: string;
  readonly message: string;
}

/** A refusal of `field`. */
export function refuse(field: string, message: string): Refusal {
  return { ok: false, field, message };
}

/** `parent.child`, or `child` at the top. */
export function join(parent: string, child: string | number): string {
  return parent === '' ? String(child) : `${parent}.${child}`;
}

/** A plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses the first member of `value` not in `allowed`. */
export function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): Refusal | undefined {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      return refuse(
        join(path, safeKey(key)),
        `unknown member "${safeKey(key)}"${path === '' ? '' : ` in ${path}`}; allowed: ${allowed.join(', ')}`,
      );
    }
  }
  return undefined;
}

/** Text without NUL or lone surrogates (docs/policy.md "Limits"). */
export function isCleanText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE_TEST.test(text);
}

/** Refuses a value that is not clean text of 1…`maxLength` characters. */
export function checkText(value: unknown, field: string, maxLength: number): Refusal | undefined {
  if (typeof value !== 'string') return refuse(field, `${field} must be a string`);
  if (!isCleanText(value)) return refuse(field, `${field} holds a NUL character or a lone surrogate`);
  if (value.length > maxLength) return refuse(field, `${field} is longer than ${maxLength} characters`);
  return undefined;
}

/** Refuses a value that is not a name (`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`). */
export function checkName(value: unknown, field: string): Refusal | undefined {
  if (typeof value !== 'string') return refuse(field, `${field} must be a string`);
  if (!POLICY_NAME_PATTERN.test(value)) {
    return refuse(field, `${field} "${safeKey(value)}" is not a name (${POLICY_NAME_PATTERN.source})`);
  }
  return undefined;
}

/** Refuses a value that is not an array of at most `maxItems` items each accepted by `check`. */
export function checkList(
  value: unknown,
  field: string,
  check: (item: unknown, field: string) => Refusal | undefined,
  maxItems = 100_000,
): Refusal | undefined {
  if (!Array.isArray(value)) return refuse(field, `${field} must be an array`);
  if (value.length > maxItems) return refuse(field, `${field} has more than ${maxItems} items`);
  for (let i = 0; i < value.length; i++) {
    const problem = check(value[i], join(field, i));
    if (problem) return problem;
  }
  return undefined;
}

/** A key made safe to quote in a message: lone surrogates and control characters escaped, at most 64 characters. */
export function safeKey(key: string): string {
  const short = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  return JSON.stringify(short.replace(LONE_SURROGATE, '\uFFFD')).slice(1, -1);
}
