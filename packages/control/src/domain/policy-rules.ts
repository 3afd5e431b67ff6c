// What a policy document must be until issue #19 defines its content: a JSON object of bounded size and depth whose
// strings and keys are acceptable text. Pure.

import { type Checked, findTextProblem, refuseField } from './text-rules.js';

/** Largest policy document, bytes of its JSON text. */
export const MAX_POLICY_BYTES = 262_144;
/** Deepest nesting of objects and arrays in a policy document. */
export const MAX_POLICY_DEPTH = 32;
/** Longest string in a policy document (descriptions, Rego snippets). */
export const MAX_POLICY_STRING_LENGTH = 65_536;

/** Checks a policy document under `field` (e.g. `document`, `policy.document`); returns it unchanged when acceptable. */
export function checkPolicyDocument(document: unknown, field: string): Checked<Record<string, unknown>> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return refuseField(field, `${field} must be a JSON object`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(document));
  if (bytes > MAX_POLICY_BYTES) return refuseField(field, `${field} is ${bytes} bytes of JSON; at most ${MAX_POLICY_BYTES} are accepted`);
  if (depthOf(document) > MAX_POLICY_DEPTH) return refuseField(field, `${field} nests deeper than ${MAX_POLICY_DEPTH} levels`);
  const problem = findTextProblem(document, field, { isMultiline: true, maxLength: MAX_POLICY_STRING_LENGTH });
  return problem ?? { ok: true, value: document as Record<string, unknown> };
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}
