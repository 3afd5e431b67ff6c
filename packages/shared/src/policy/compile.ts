// A policy document compiled into lookup tables (docs/policy.md "Engines": builtin). Pure.

import type { PolicyDocument, PolicyRule, PolicySelector } from './document.js';
import { buildMembership, type GroupMembership } from './membership.js';
import { buildRuleIndex, type RuleIndex } from './rule-index.js';
import { POLICY_WEEKDAYS, type PolicyDecision } from './types.js';

/** One rule's match conditions as sets and numbers. */
export interface CompiledRule {
  readonly from: CompiledSelector | undefined;
  readonly to: CompiledSelector | undefined;
  readonly types: ReadonlySet<string> | undefined;
  /** Bit i set = day POLICY_WEEKDAYS[i] allowed; 127 = every day. */
  readonly daysMask: number;
  /** Minutes of day; -1 when the window has no clock range. */
  readonly fromMinute: number;
  readonly toMinute: number;
  readonly decision: PolicyDecision;
}

/** A selector's lists as sets. */
export interface CompiledSelector {
  readonly agents: ReadonlySet<string>;
  readonly institutions: ReadonlySet<string>;
  readonly groups: ReadonlySet<string>;
}

/** A document compiled into lookup tables; build it with `compilePolicy`, use it with `decidePolicy`. */
export interface CompiledPolicy {
  readonly version: number;
  /** IANA zone of the document's windows (`UTC` when it names none). */
  readonly timeZone: string;
  readonly defaultDecision: 'allow' | 'deny';
  readonly document: PolicyDocument;
  /** The decision when no rule matches. */
  readonly fallback: PolicyDecision;
  readonly rules: readonly CompiledRule[];
  readonly index: RuleIndex;
  readonly membership: GroupMembership;
  /** Scratch space of `decidePolicy`: rule index → the mark of the last pass that reached it (synchronous use only). */
  readonly scratch: { marks: Uint32Array; mark: number };
}

/**
 * Compiles a document accepted by `parsePolicyDocument` into lookup tables: rule indices by sender and recipient
 * agent, institution and group (with wildcard buckets), per effect, in document order; transitive policy-group
 * membership by agent id, institution and group name; and one frozen decision per rule. `version` is the version
 * the decisions carry. Cost is linear in the document's size.
 */
export function compilePolicy(document: PolicyDocument, version: number): CompiledPolicy {
  const rules = document.rules.map((rule) => compileRule(rule, version));
  const membership = buildMembership(document.groups);
  const fallback: PolicyDecision = Object.freeze({
    allow: document.defaultDecision === 'allow',
    reason: document.defaultDecision === 'allow' ? 'DEFAULT_ALLOW' : 'DEFAULT_DENY',
    policyVersion: version,
  });
  return Object.freeze({
    version,
    timeZone: document.timeZone ?? 'UTC',
    defaultDecision: document.defaultDecision,
    document,
    fallback,
    rules,
    index: buildRuleIndex(document.rules, membership),
    membership,
    scratch: { marks: new Uint32Array(rules.length), mark: 0 },
  });
}

function compileRule(rule: PolicyRule, version: number): CompiledRule {
  const window = rule.window;
  let daysMask = 127;
  if (window?.days) daysMask = window.days.reduce((mask, day) => mask | (1 << POLICY_WEEKDAYS.indexOf(day)), 0);
  return {
    from: compileSelector(rule.from),
    to: compileSelector(rule.to),
    types: rule.types ? new Set(rule.types) : undefined,
    daysMask,
    fromMinute: window?.from === undefined ? -1 : clockMinutes(window.from),
    toMinute: window?.to === undefined ? -1 : clockMinutes(window.to),
    decision: Object.freeze({
      allow: rule.effect === 'allow',
      reason: rule.effect === 'allow' ? 'ALLOW_RULE' : 'DENY_RULE',
      ruleId: rule.id,
      policyVersion: version,
    }),
  };
}

function compileSelector(selector: PolicySelector | undefined): CompiledSelector | undefined {
  if (selector === undefined) return undefined;
  return {
    agents: new Set(selector.agents ?? []),
    institutions: new Set(selector.institutions ?? []),
    groups: new Set(selector.groups ?? []),
  };
}

/** `HH:MM` → minutes since midnight. */
export function clockMinutes(clock: string): number {
  return Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
}
