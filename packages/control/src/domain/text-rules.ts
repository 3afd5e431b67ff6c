// What a string in the control plane may hold. Pure. Every string of every admin API body passes here, so a NUL
// (PostgreSQL cannot store it), a lone surrogate (not UTF-8), bytes that were not UTF-8 (decoded to U+FFFD), control
// characters and bidirectional overrides (text that reads differently than it compares: "Trojan Source") are refused
// with the field's name before anything is written.

/** An expected refusal of one field: the catalog code, the dotted path of the field, and why. */
export interface FieldRefusal {
  readonly ok: false;
  readonly code: 'DMR_CONTROL_INVALID_INPUT';
  /** Dotted path (`agents.998.name`), or `body` for the document as a whole. */
  readonly field: string;
  readonly message: string;
}

/** A value, or the refusal of one field. */
export type Checked<T> = { readonly ok: true; readonly value: T } | FieldRefusal;

/** Builds a {@link FieldRefusal}. */
export function refuseField(field: string, message: string): FieldRefusal {
  return { ok: false, code: 'DMR_CONTROL_INVALID_INPUT', field, message };
}

/** Options of {@link textProblem}. */
export interface TextRules {
  /** Line feeds, carriage returns and tabs are allowed (PEM blocks, free-form comments). Default false. */
  readonly isMultiline?: boolean;
  /** Longest length in UTF-16 code units; default 256. */
  readonly maxLength?: number;
}

// C0 controls but tab, line feed and carriage return; DEL; C1 controls
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
const UNPRINTABLE_ALL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// a high surrogate not followed by a low one, or a low one not preceded by a high one: not encodable as UTF-8
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');
// bidirectional embeddings, overrides and isolates (CVE-2021-42574), and the line/paragraph separators
const INVISIBLE_LAYOUT = /[\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/** Why `value` is not acceptable text, or undefined when it is. */
export function textProblem(value: string, rules: TextRules = {}): string | undefined {
  const maxLength = rules.maxLength ?? 256;
  if (LONE_SURROGATE.test(value)) return 'holds a lone UTF-16 surrogate: it is not valid Unicode text (UTF-8)';
  if (value.includes('\u0000')) return 'holds a NUL character';
  if (value.includes('\ufffd')) return 'holds U+FFFD: the bytes sent were not valid UTF-8';
  if ((rules.isMultiline ? CONTROL_MULTILINE : CONTROL_SINGLE_LINE).test(value)) return 'holds a control character';
  if (INVISIBLE_LAYOUT.test(value)) return 'holds a bidirectional override or line separator character';
  if (value.length > maxLength) return `is longer than ${maxLength} characters`;
  return undefined;
}

/** {@link textProblem} as a {@link Checked} value naming `field`. */
export function checkText(field: string, value: string, rules: TextRules = {}): Checked<string> {
  const problem = textProblem(value, rules);
  return problem === undefined ? { ok: true, value } : refuseField(field, `${field} ${problem}`);
}

/**
 * The first string anywhere in a JSON value (keys included) that breaks {@link textProblem}, as the refusal of its
 * path under `root`; undefined when every string is acceptable. `rules` apply to values; keys are single-line.
 */
export function findTextProblem(value: unknown, root: string, rules: TextRules = {}): FieldRefusal | undefined {
  if (typeof value === 'string') {
    const problem = textProblem(value, rules);
    return problem === undefined ? undefined : refuseField(root, `${root} ${problem}`);
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findTextProblem(item, joinPath(root, String(index)), rules);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = textProblem(key, { maxLength: 256 });
    if (keyProblem !== undefined) return refuseField(joinPath(root, safeKey(key)), `a key of ${root || 'the body'} ${keyProblem}`);
    const found = findTextProblem(item, joinPath(root, key), rules);
    if (found) return found;
  }
  return undefined;
}

/** `root.name`, or `name` alone at the top (root `''`). */
export function joinPath(root: string, name: string): string {
  return root === '' ? name : `${root}.${name}`;
}

/** A key as it may appear in a message: control characters and surrogates replaced, at most 64 characters. */
function safeKey(key: string): string {
  return key.replace(LONE_SURROGATE_ALL, '?').replace(UNPRINTABLE_ALL, '?').slice(0, 64);
}
