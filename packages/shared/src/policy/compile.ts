// A policy document compiled into lookup tables (docs/policy.md "Engines": builtin). Pure.

import type { PolicyDocument, PolicyRule, PolicySelector } from './document.js';
import { buildMembership, type GroupMembership } from './membership.js';
import { POLICY_WEEKDAYS, type PolicyDecision } from './types.js';

const NO_INDICES = new Int32Array(0);

/** Rule indices (document order, ascending) by the agent, institution or group a selector names; `any` = no selector. */
export interface SelectorIndex {
  readonly byAgent: ReadonlyMap<string, Int32Array>;
  readonly byInstitution: ReadonlyMap<string, Int32Array>;
  readonly byGroup: ReadonlyMap<string, Int32Array>;
  readonly any: Int32Array;
}

/** The rules of one effect, indexed from both sides. */
export interface EffectIndex {
  readonly from: SelectorIndex;
  readonly to: SelectorIndex;
}

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
  readonly deny: EffectIndex;
  readonly allow: EffectIndex;
  readonly membership: GroupMembership;
}

/**
 * Compiles a document accepted by `parsePolicyDocument` into lookup tables: rule indices by sender and recipient
 * agent, institution and group (with wildcard buckets), per effect, in document order; transitive policy-group
 * membership by agent id, institution and group name; and one frozen decision per rule. `version` is the version
 * the decisions carry. Cost is linear in the document's size.
 */
export function compilePolicy(document: PolicyDocument, version: number): CompiledPolicy {
  const rules = document.rules.map((rule) => compileRule(rule, version));
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
    deny: indexEffect(document.rules, 'deny'),
    allow: indexEffect(document.rules, 'allow'),
    membership: buildMembership(document.groups),
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

function indexEffect(rules: readonly PolicyRule[], effect: 'allow' | 'deny'): EffectIndex {
  const from = new SelectorBuilder();
  const to = new SelectorBuilder();
  rules.forEach((rule, index) => {
    if (rule.effect !== effect) return;
    from.add(rule.from, index);
    to.add(rule.to, index);
  });
  return { from: from.build(), to: to.build() };
}

class SelectorBuilder {
  private readonly agents = new Map<string, number[]>();
  private readonly institutions = new Map<string, number[]>();
  private readonly groups = new Map<string, number[]>();
  private readonly any: number[] = [];

  add(selector: PolicySelector | undefined, index: number): void {
    if (selector === undefined) {
      this.any.push(index);
      return;
    }
    for (const name of new Set(selector.agents)) append(this.agents, name, index);
    for (const name of new Set(selector.institutions)) append(this.institutions, name, index);
    for (const name of new Set(selector.groups)) append(this.groups, name, index);
  }

  build(): SelectorIndex {
    return {
      byAgent: freezeLists(this.agents),
      byInstitution: freezeLists(this.institutions),
      byGroup: freezeLists(this.groups),
      any: this.any.length === 0 ? NO_INDICES : Int32Array.from(this.any),
    };
  }
}

function append(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list) list.push(index);
  else map.set(key, [index]);
}

function freezeLists(map: Map<string, number[]>): Map<string, Int32Array> {
  return new Map([...map].map(([key, list]) => [key, Int32Array.from(list)]));
}
