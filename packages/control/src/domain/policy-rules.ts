// What a policy document must be: a `dmr-policy/v1` document as @dmr/shared/policy validates it (docs/policy.md), of
// at most MAX_POLICY_BYTES of JSON, whose strings are acceptable control-plane text. Pure.

import { MAX_POLICY_BYTES, parsePolicyDocument } from '@dmr/shared/policy';
import { type Checked, findTextProblem, refuseField } from './text-rules.js';

/** Largest policy document, bytes of its compact JSON text (8 MiB, docs/policy.md "Limits"; DMR_MAX_BODY_BYTES is 10 MiB). */
export { MAX_POLICY_BYTES };
/** Deepest nesting of objects and arrays a dmr-policy/v1 document can have (its shape fixes it; kept for callers). */
export const MAX_POLICY_DEPTH = 32;
/** Longest string in a policy document (descriptions are held to 1024 characters by the format itself). */
export const MAX_POLICY_STRING_LENGTH = 65_536;

/**
 * Checks a policy document under `field` (e.g. `document`, `policy.document`): a JSON object of at most
 * MAX_POLICY_BYTES, a valid `dmr-policy/v1` document (the refusal names the first bad field, e.g.
 * `document.rules.3.effect`), and text without control characters. Returns it unchanged when acceptable.
 */
export function checkPolicyDocument(document: unknown, field: string): Checked<Record<string, unknown>> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return refuseField(field, `${field} must be a JSON object (a dmr-policy/v1 document)`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(document));
  if (bytes > MAX_POLICY_BYTES) return refuseField(field, `${field} is ${bytes} bytes of JSON; at most ${MAX_POLICY_BYTES} are accepted`);
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) {
    const at = parsed.field === '' ? field : `${field}.${parsed.field}`;
    const message =
      parsed.field !== '' && parsed.message.startsWith(parsed.field) ? `${field}.${parsed.message}` : `${at}: ${parsed.message}`;
    return refuseField(at, message);
  }
  const problem = findTextProblem(document, field, { isMultiline: true, maxLength: MAX_POLICY_STRING_LENGTH });
  return problem ?? { ok: true, value: document as Record<string, unknown> };
}
