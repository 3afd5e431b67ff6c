// One policy decision (docs/policy.md "Output"): deny wins, first matching rule in document order. Pure.

import type { CompiledPolicy, CompiledRule, CompiledSelector } from './compile.js';
import type { EffectSlot, KeyEntry, RuleIndex } from './rule-index.js';
import type { PolicyDecision, PolicyInput, PolicyParty, PolicyWeekday } from './types.js';

const NO_POLICY: PolicyDecision = Object.freeze({ allow: true, reason: 'NO_POLICY', policyVersion: 0 });
const DAY_BIT: Readonly<Record<PolicyWeekday, number>> = { mon: 1, tue: 2, wed: 4, thu: 8, fri: 16, sat: 32, sun: 64 };
const NONE = -1;

/**
 * Decides one message. Without a policy: allowed, `NO_POLICY`, version 0. Otherwise the first matching deny rule in
 * document order (`DENY_RULE`), else the first matching allow rule (`ALLOW_RULE`), else `DEFAULT_ALLOW` or
 * `DEFAULT_DENY`. `input.time.weekday` and `minuteOfDay` must be in the policy's time zone (see `policyTime`).
 * Returns shared frozen objects. Synchronous: it uses the compiled policy's scratch marks.
 */
export function decidePolicy(compiled: CompiledPolicy | undefined, input: PolicyInput): PolicyDecision {
  if (compiled === undefined) return NO_POLICY;
  const senders = keyEntries(compiled.index, input.sender);
  const recipients = keyEntries(compiled.index, input.recipient);
  const deny = firstMatch(compiled, 0, input, senders, recipients);
  if (deny !== NONE) return (compiled.rules[deny] as CompiledRule).decision;
  const allow = firstMatch(compiled, 1, input, senders, recipients);
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

/** The key entries that select rules for a party: its id, its institution, its groups and the groups they imply. */
function keyEntries(index: RuleIndex, party: PolicyParty): KeyEntry[] {
  const entries: KeyEntry[] = [];
  const add = (entry: KeyEntry | undefined): void => {
    if (entry === undefined) return;
    entries.push(entry);
    for (const implied of entry.implied) entries.push(implied);
  };
  add(index.agents.get(party.id));
  if (party.institution !== '') add(index.institutions.get(party.institution));
  for (const group of party.groups) add(index.groups.get(group));
  return entries;
}

/**
 * The lowest rule index of one effect that matches, or NONE. Every candidate list is sorted, and a list is abandoned
 * as soon as it passes the best index found so far. A candidate found through a party's own keys already matches that
 * side; for rules with both selectors, the side with fewer candidates is marked and the other side is scanned for
 * marks, so only the intersection is checked for type and window.
 */
function firstMatch(
  compiled: CompiledPolicy,
  slot: EffectSlot,
  input: PolicyInput,
  senders: readonly KeyEntry[],
  recipients: readonly KeyEntry[],
): number {
  const rules = compiled.rules;
  let best = scan(rules, compiled.index.any[slot], input, rules.length, undefined, 0);
  for (const entry of senders) best = scan(rules, entry.from[slot].only, input, best, undefined, 0);
  for (const entry of recipients) best = scan(rules, entry.to[slot].only, input, best, undefined, 0);
  let fromCount = 0;
  for (const entry of senders) fromCount += entry.from[slot].both?.length ?? 0;
  let toCount = 0;
  if (fromCount > 0) for (const entry of recipients) toCount += entry.to[slot].both?.length ?? 0;
  if (toCount > 0) {
    const marks = compiled.scratch.marks;
    const mark = nextMark(compiled);
    const marksFrom = fromCount <= toCount;
    for (const entry of marksFrom ? senders : recipients) {
      const list = (marksFrom ? entry.from : entry.to)[slot].both;
      if (list === undefined) continue;
      // Only indices below the best so far can still win.
      for (let i = 0; i < list.length && (list[i] as number) < best; i++) marks[list[i] as number] = mark;
    }
    for (const entry of marksFrom ? recipients : senders)
      best = scan(rules, (marksFrom ? entry.to : entry.from)[slot].both, input, best, marks, mark);
  }
  return best === rules.length ? NONE : best;
}

/**
 * The lowest index in `list` below `best` whose rule matches type and window (and, with `marks`, carries `mark`),
 * else `best`.
 */
function scan(
  rules: readonly CompiledRule[],
  list: Int32Array | undefined,
  input: PolicyInput,
  best: number,
  marks: Uint32Array | undefined,
  mark: number,
): number {
  if (list === undefined) return best;
  for (let i = 0; i < list.length; i++) {
    const at = list[i] as number;
    if (at >= best) return best;
    if (marks !== undefined && marks[at] !== mark) continue;
    const rule = rules[at] as CompiledRule;
    if ((rule.types === undefined || rule.types.has(input.message.type)) && windowMatches(rule, input.time.weekday, input.time.minuteOfDay))
      return at;
  }
  return best;
}

function nextMark(compiled: CompiledPolicy): number {
  const scratch = compiled.scratch;
  if (scratch.mark >= 0xffff_fffe) {
    scratch.marks.fill(0);
    scratch.mark = 0;
  }
  scratch.mark += 1;
  return scratch.mark;
}
