// One policy decision (docs/policy.md "Output"): deny wins, first matching rule in document order. Pure.

import type { CompiledPolicy, CompiledRule, CompiledSelector, EffectIndex, SelectorIndex } from './compile.js';
import { effectiveGroups } from './membership.js';
import type { PolicyDecision, PolicyInput, PolicyParty, PolicyWeekday } from './types.js';

const NO_POLICY: PolicyDecision = Object.freeze({ allow: true, reason: 'NO_POLICY', policyVersion: 0 });
const DAY_BIT: Readonly<Record<PolicyWeekday, number>> = { mon: 1, tue: 2, wed: 4, thu: 8, fri: 16, sat: 32, sun: 64 };
const NONE = -1;

/**
 * Decides one message. Without a policy: allowed, `NO_POLICY`, version 0. Otherwise the first matching deny rule in
 * document order (`DENY_RULE`), else the first matching allow rule (`ALLOW_RULE`), else `DEFAULT_ALLOW` or
 * `DEFAULT_DENY`. `input.time.weekday` and `minuteOfDay` must be in the policy's time zone (see `policyTime`).
 * Returns shared frozen objects; allocates only small candidate lists.
 */
export function decidePolicy(compiled: CompiledPolicy | undefined, input: PolicyInput): PolicyDecision {
  if (compiled === undefined) return NO_POLICY;
  const senderGroups = effectiveGroups(compiled.membership, input.sender);
  const recipientGroups = effectiveGroups(compiled.membership, input.recipient);
  const deny = firstMatch(compiled.rules, compiled.deny, input, senderGroups, recipientGroups);
  if (deny !== NONE) return (compiled.rules[deny] as CompiledRule).decision;
  const allow = firstMatch(compiled.rules, compiled.allow, input, senderGroups, recipientGroups);
  if (allow !== NONE) return (compiled.rules[allow] as CompiledRule).decision;
  return compiled.fallback;
}

/** Whether one compiled rule matches `input`, given both parties' effective groups. */
export function ruleMatches(
  rule: CompiledRule,
  input: PolicyInput,
  senderGroups: readonly string[],
  recipientGroups: readonly string[],
): boolean {
  return (
    selectorMatches(rule.from, input.sender, senderGroups) &&
    selectorMatches(rule.to, input.recipient, recipientGroups) &&
    (rule.types === undefined || rule.types.has(input.message.type)) &&
    windowMatches(rule, input.time.weekday, input.time.minuteOfDay)
  );
}

/** Whether a selector (absent = everyone) names the party, its institution or one of its effective groups. */
export function selectorMatches(selector: CompiledSelector | undefined, party: PolicyParty, groups: readonly string[]): boolean {
  if (selector === undefined) return true;
  if (selector.agents.has(party.id) || selector.institutions.has(party.institution)) return true;
  if (selector.groups.size === 0) return false;
  for (const group of groups) if (selector.groups.has(group)) return true;
  return false;
}

/** Whether the rule's window (days, then `[from, to)` possibly wrapping past midnight) holds at that time. */
export function windowMatches(rule: CompiledRule, weekday: PolicyWeekday, minuteOfDay: number): boolean {
  if ((rule.daysMask & DAY_BIT[weekday]) === 0) return false;
  if (rule.fromMinute < 0) return true;
  return rule.fromMinute < rule.toMinute
    ? minuteOfDay >= rule.fromMinute && minuteOfDay < rule.toMinute
    : minuteOfDay >= rule.fromMinute || minuteOfDay < rule.toMinute;
}

/**
 * The lowest rule index of this effect that matches. Scans the side (sender or recipient) with fewer candidates:
 * each candidate list is sorted, so a list is abandoned as soon as it passes the best index found so far.
 */
function firstMatch(
  rules: readonly CompiledRule[],
  index: EffectIndex,
  input: PolicyInput,
  senderGroups: readonly string[],
  recipientGroups: readonly string[],
): number {
  const fromLists = candidates(index.from, input.sender, senderGroups);
  const toLists = candidates(index.to, input.recipient, recipientGroups);
  const fromCount = total(fromLists);
  const toCount = total(toLists);
  if (fromCount === 0 || toCount === 0) return NONE;
  const lists = fromCount <= toCount ? fromLists : toLists;
  let best = rules.length;
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) {
      const at = list[i] as number;
      if (at >= best) break;
      if (ruleMatches(rules[at] as CompiledRule, input, senderGroups, recipientGroups)) {
        best = at;
        break;
      }
    }
  }
  return best === rules.length ? NONE : best;
}

function candidates(index: SelectorIndex, party: PolicyParty, groups: readonly string[]): Int32Array[] {
  const lists: Int32Array[] = [];
  if (index.any.length > 0) lists.push(index.any);
  const byAgent = index.byAgent.get(party.id);
  if (byAgent) lists.push(byAgent);
  const byInstitution = index.byInstitution.get(party.institution);
  if (byInstitution) lists.push(byInstitution);
  for (const group of groups) {
    const byGroup = index.byGroup.get(group);
    if (byGroup) lists.push(byGroup);
  }
  return lists;
}

function total(lists: readonly Int32Array[]): number {
  let sum = 0;
  for (const list of lists) sum += list.length;
  return sum;
}
