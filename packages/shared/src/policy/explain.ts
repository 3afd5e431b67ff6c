// Why a decision came out as it did, rule by rule, for `dmrctl policy test` (docs/policy.md "Lifecycle"). Pure.

import type { CompiledPolicy, CompiledRule } from './compile.js';
import { decidePolicy, selectorMatches, windowMatches } from './decide.js';
import type { PolicySelector } from './document.js';
import { effectiveGroups } from './membership.js';
import type { PolicyDecision, PolicyInput, PolicyParty } from './types.js';

/** Why one rule did or did not match. */
export interface PolicyRuleExplanation {
  readonly index: number;
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly matched: boolean;
  /** Each condition that failed (empty when the rule matched). */
  readonly mismatches: readonly string[];
}

/** A decision and, for each rule in document order up to the deciding one (all rules for a default), why it did or did not match. */
export interface PolicyExplanation {
  readonly decision: PolicyDecision;
  /** The groups each side was taken to be in (registry groups and the policy groups they imply). */
  readonly senderGroups: readonly string[];
  readonly recipientGroups: readonly string[];
  readonly rules: readonly PolicyRuleExplanation[];
}

/**
 * Explains a decision: the decision itself (exactly `decidePolicy`'s) and every rule up to the deciding one with the
 * conditions it failed. An allow rule listed as matched before a deciding deny rule was overridden (deny wins).
 */
export function explainPolicy(compiled: CompiledPolicy | undefined, input: PolicyInput): PolicyExplanation {
  const decision = decidePolicy(compiled, input);
  if (compiled === undefined) return { decision, senderGroups: input.sender.groups, recipientGroups: input.recipient.groups, rules: [] };
  const senderGroups = unique(effectiveGroups(compiled.membership, input.sender));
  const recipientGroups = unique(effectiveGroups(compiled.membership, input.recipient));
  const decider =
    decision.ruleId === undefined ? compiled.rules.length - 1 : compiled.document.rules.findIndex((rule) => rule.id === decision.ruleId);
  const rules: PolicyRuleExplanation[] = [];
  for (let index = 0; index <= decider; index++) {
    const source = compiled.document.rules[index];
    const rule = compiled.rules[index] as CompiledRule;
    if (source === undefined) break;
    const mismatches = explainRule(rule, source.from, source.to, input, senderGroups, recipientGroups);
    rules.push({ index, id: source.id, effect: source.effect, matched: mismatches.length === 0, mismatches });
  }
  return { decision, senderGroups, recipientGroups, rules };
}

function explainRule(
  rule: CompiledRule,
  from: PolicySelector | undefined,
  to: PolicySelector | undefined,
  input: PolicyInput,
  senderGroups: readonly string[],
  recipientGroups: readonly string[],
): string[] {
  const mismatches: string[] = [];
  if (!selectorMatches(rule.from, input.sender, senderGroups))
    mismatches.push(`sender ${describeParty(input.sender, senderGroups)} is not in from ${describeSelector(from)}`);
  if (!selectorMatches(rule.to, input.recipient, recipientGroups))
    mismatches.push(`recipient ${describeParty(input.recipient, recipientGroups)} is not in to ${describeSelector(to)}`);
  if (rule.types !== undefined && !rule.types.has(input.message.type))
    mismatches.push(`type ${input.message.type} is not in types [${[...rule.types].join(', ')}]`);
  if (!windowMatches(rule, input.time.weekday, input.time.minuteOfDay)) mismatches.push(describeWindowMiss(rule, input));
  return mismatches;
}

function describeWindowMiss(rule: CompiledRule, input: PolicyInput): string {
  const { weekday, minuteOfDay } = input.time;
  if (!windowMatches({ ...rule, fromMinute: -1 }, weekday, minuteOfDay)) return `${weekday} is not one of the window's days`;
  return `${clock(minuteOfDay)} is outside the window ${clock(rule.fromMinute)}–${clock(rule.toMinute)}`;
}

function describeParty(party: PolicyParty, groups: readonly string[]): string {
  return `${party.id} (institution ${party.institution === '' ? '(none)' : party.institution}; groups ${groups.length === 0 ? '(none)' : groups.join(', ')})`;
}

function describeSelector(selector: PolicySelector | undefined): string {
  const parts: string[] = [];
  if (selector?.agents?.length) parts.push(`agents [${selector.agents.join(', ')}]`);
  if (selector?.institutions?.length) parts.push(`institutions [${selector.institutions.join(', ')}]`);
  if (selector?.groups?.length) parts.push(`groups [${selector.groups.join(', ')}]`);
  return `{${parts.join('; ')}}`;
}

function clock(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
