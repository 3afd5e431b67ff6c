// Validation of a `dmr-policy/v1` document (docs/policy.md "The policy document", "Limits"). Pure; never throws.

import {
  MAX_POLICY_BYTES,
  MAX_POLICY_DESCRIPTION_LENGTH,
  MAX_POLICY_GROUPS,
  MAX_POLICY_RULES,
  POLICY_FORMAT,
  type PolicyDocument,
  type PolicyParseResult,
} from './document.js';
import { checkGroups } from './parse-groups.js';
import { checkRules } from './parse-rules.js';
import { checkKeys, checkText, isObject, type Refusal, refuse } from './parse-values.js';
import { isTimeZone } from './time.js';

const TOP_LEVEL = ['format', 'defaultDecision', 'timeZone', 'version', 'description', 'groups', 'rules'] as const;

/**
 * Validates a `dmr-policy/v1` document: unknown members, names, duplicate rule ids, empty selectors, windows, group
 * cycles and depth, the size limits (checked before any per-item work, so a huge document is refused quickly) and
 * text (no NUL, no lone surrogate). Returns the document, or the first bad field as a dotted path (`''` = the whole
 * document) with a message. Never throws.
 */
export function parsePolicyDocument(raw: unknown): PolicyParseResult {
  const refusal = checkDocument(raw);
  return refusal ?? { ok: true, document: raw as PolicyDocument };
}

/**
 * Decodes a policy file's bytes (UTF-8, refused when malformed or longer than MAX_POLICY_BYTES), parses the JSON and
 * validates it with `parsePolicyDocument`.
 */
export function parsePolicyText(bytes: Uint8Array): PolicyParseResult {
  if (bytes.byteLength > MAX_POLICY_BYTES) {
    return refuse('', `the policy is ${bytes.byteLength} bytes; at most ${MAX_POLICY_BYTES} (MAX_POLICY_BYTES) are accepted`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return refuse('', 'the policy is not valid UTF-8 text');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return refuse('', `the policy is not valid JSON: ${(error as Error).message}`);
  }
  return parsePolicyDocument(raw);
}

function checkDocument(raw: unknown): Refusal | undefined {
  if (!isObject(raw)) return refuse('', 'a policy document must be a JSON object');
  return checkKeys(raw, TOP_LEVEL, '') ?? checkHeader(raw) ?? checkLimits(raw) ?? checkGroups(raw.groups) ?? checkRules(raw.rules);
}

function checkHeader(raw: Record<string, unknown>): Refusal | undefined {
  if (raw.format !== POLICY_FORMAT) return refuse('format', `format must be "${POLICY_FORMAT}"`);
  if (raw.defaultDecision !== 'allow' && raw.defaultDecision !== 'deny') {
    return refuse('defaultDecision', 'defaultDecision must be "allow" or "deny" (the operator chooses explicitly)');
  }
  if (raw.timeZone !== undefined) {
    const problem = checkText(raw.timeZone, 'timeZone', 64);
    if (problem) return problem;
    if (!isTimeZone(raw.timeZone as string)) return refuse('timeZone', `timeZone "${raw.timeZone}" is not an IANA time zone`);
  }
  const version = raw.version;
  if (version !== undefined && !(Number.isSafeInteger(version) && (version as number) >= 1)) {
    return refuse('version', 'version must be an integer ≥ 1');
  }
  if (raw.description !== undefined) return checkText(raw.description, 'description', MAX_POLICY_DESCRIPTION_LENGTH);
  return undefined;
}

/** Counts first, so 100 000 rules or 10 000 groups are refused without looking at any of them. */
function checkLimits(raw: Record<string, unknown>): Refusal | undefined {
  if (!Array.isArray(raw.rules)) return refuse('rules', 'rules must be an array');
  if (raw.rules.length > MAX_POLICY_RULES) {
    return refuse('rules', `rules has ${raw.rules.length} entries; at most ${MAX_POLICY_RULES} are accepted`);
  }
  if (raw.groups === undefined) return undefined;
  if (!isObject(raw.groups)) return refuse('groups', 'groups must be a JSON object of group name → members');
  let count = 0;
  for (const _ in raw.groups) {
    if (++count > MAX_POLICY_GROUPS) return refuse('groups', `groups has more than ${MAX_POLICY_GROUPS} entries`);
  }
  return undefined;
}
