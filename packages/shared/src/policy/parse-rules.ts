// Validation of a policy document's `rules` (docs/policy.md "Rules"). Pure.

import { MAX_POLICY_DESCRIPTION_LENGTH } from './document.js';
import { checkMembers } from './parse-groups.js';
import { checkKeys, checkList, checkName, checkText, isObject, join, type Refusal, refuse } from './parse-values.js';
import { POLICY_WEEKDAYS } from './types.js';

const RULE_KEYS = ['id', 'effect', 'from', 'to', 'types', 'window', 'description'] as const;
const WINDOW_KEYS = ['days', 'from', 'to'] as const;
const CLOCK = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** Checks `rules` (already known to be an array of at most MAX_POLICY_RULES items). */
export function checkRules(rules: unknown): Refusal | undefined {
  const seen = new Set<string>();
  const list = rules as readonly unknown[];
  for (let i = 0; i < list.length; i++) {
    const field = join('rules', i);
    const rule = list[i];
    const problem = checkRule(rule, field);
    if (problem) return problem;
    const id = (rule as { id: string }).id;
    if (seen.has(id)) return refuse(join(field, 'id'), `rule id "${id}" is used by an earlier rule; ids must be unique`);
    seen.add(id);
  }
  return undefined;
}

function checkRule(rule: unknown, field: string): Refusal | undefined {
  if (!isObject(rule)) return refuse(field, `${field} must be a JSON object`);
  return (
    checkKeys(rule, RULE_KEYS, field) ??
    checkName(rule.id, join(field, 'id')) ??
    checkEffect(rule.effect, join(field, 'effect')) ??
    checkSelector(rule.from, join(field, 'from')) ??
    checkSelector(rule.to, join(field, 'to')) ??
    checkTypes(rule.types, join(field, 'types')) ??
    checkWindow(rule.window, join(field, 'window')) ??
    (rule.description === undefined ? undefined : checkText(rule.description, join(field, 'description'), MAX_POLICY_DESCRIPTION_LENGTH))
  );
}

function checkEffect(effect: unknown, field: string): Refusal | undefined {
  return effect === 'allow' || effect === 'deny' ? undefined : refuse(field, `${field} must be "allow" or "deny"`);
}

/** An absent selector matches everyone; one whose lists are all absent or empty would match no one and is refused. */
function checkSelector(selector: unknown, field: string): Refusal | undefined {
  if (selector === undefined) return undefined;
  const problem = checkMembers(selector, field);
  if (problem) return problem;
  const { agents, institutions, groups } = selector as Record<string, unknown[] | undefined>;
  if ((agents?.length ?? 0) + (institutions?.length ?? 0) + (groups?.length ?? 0) === 0) {
    return refuse(field, `${field} names no agent, institution or group; leave it out to match everyone`);
  }
  return undefined;
}

function checkTypes(types: unknown, field: string): Refusal | undefined {
  if (types === undefined) return undefined;
  if (Array.isArray(types) && types.length === 0) return refuse(field, `${field} is empty; leave it out to match every type`);
  return checkList(types, field, checkName);
}

function checkWindow(window: unknown, field: string): Refusal | undefined {
  if (window === undefined) return undefined;
  if (!isObject(window)) return refuse(field, `${field} must be a JSON object with days and/or from and to`);
  const problem = checkKeys(window, WINDOW_KEYS, field) ?? checkDays(window.days, join(field, 'days'));
  if (problem) return problem;
  if (window.days === undefined && window.from === undefined && window.to === undefined) {
    return refuse(field, `${field} is empty; leave it out to match at any time`);
  }
  if ((window.from === undefined) !== (window.to === undefined)) {
    const missing = window.from === undefined ? 'from' : 'to';
    return refuse(join(field, missing), `${field} needs both from and to, or neither`);
  }
  if (window.from === undefined) return undefined;
  const clock = checkClock(window.from, join(field, 'from')) ?? checkClock(window.to, join(field, 'to'));
  if (clock) return clock;
  if (window.from === window.to) return refuse(join(field, 'to'), `${field}.from equals ${field}.to; the window would be empty or all day`);
  return undefined;
}

function checkDays(days: unknown, field: string): Refusal | undefined {
  if (days === undefined) return undefined;
  if (Array.isArray(days) && days.length === 0) return refuse(field, `${field} is empty; leave it out to match every day`);
  const seen = new Set<unknown>();
  return checkList(days, field, (day, at) => {
    if (!(POLICY_WEEKDAYS as readonly unknown[]).includes(day)) return refuse(at, `${at} must be one of ${POLICY_WEEKDAYS.join(', ')}`);
    if (seen.has(day)) return refuse(at, `${at} repeats "${day}"`);
    seen.add(day);
    return undefined;
  });
}

function checkClock(value: unknown, field: string): Refusal | undefined {
  return typeof value === 'string' && CLOCK.test(value)
    ? undefined
    : refuse(field, `${field} must be "HH:MM" on a 24-hour clock (00:00–23:59)`);
}
