// The lookup tables of a compiled policy: for every agent id, institution and group name a rule or policy group
// names, the rule indices it can select, per effect and side (docs/policy.md "Engines": builtin). Pure.

import type { PolicyRule, PolicySelector } from './document.js';
import type { GroupMembership } from './membership.js';

/** 0 = deny rules, 1 = allow rules: deny is searched first (deny wins). */
export type EffectSlot = 0 | 1;

/**
 * Rule indices (document order, ascending) of one effect that one key selects on one side. `both`: rules that have
 * both selectors (the other side must match too); `only`: rules without a selector on the other side.
 */
export interface SideLists {
  readonly both: Int32Array | undefined;
  readonly only: Int32Array | undefined;
}

/** What one key (an agent id, an institution or a group) selects, and the policy groups it implies. */
export interface KeyEntry {
  /** By effect slot: the rules whose `from` names this key. */
  readonly from: readonly [SideLists, SideLists];
  /** By effect slot: the rules whose `to` names this key. */
  readonly to: readonly [SideLists, SideLists];
  /** Entries of the policy groups this key makes a party a member of, transitively (only those that select rules). */
  readonly implied: readonly KeyEntry[];
}

/** The tables: key entries by kind, and per effect the rules with neither selector. */
export interface RuleIndex {
  readonly agents: ReadonlyMap<string, KeyEntry>;
  readonly institutions: ReadonlyMap<string, KeyEntry>;
  readonly groups: ReadonlyMap<string, KeyEntry>;
  readonly any: readonly [Int32Array, Int32Array];
}

type Slot = { both: number[]; only: number[] };
interface Draft {
  from: [Slot, Slot];
  to: [Slot, Slot];
}

/** Builds the tables for `rules`, with `membership` giving each key's implied policy groups. */
export function buildRuleIndex(rules: readonly PolicyRule[], membership: GroupMembership): RuleIndex {
  const drafts = { agents: new Map<string, Draft>(), institutions: new Map<string, Draft>(), groups: new Map<string, Draft>() };
  const any: [number[], number[]] = [[], []];
  rules.forEach((rule, index) => {
    const slot: EffectSlot = rule.effect === 'deny' ? 0 : 1;
    const both = rule.from !== undefined && rule.to !== undefined;
    if (rule.from === undefined && rule.to === undefined) any[slot].push(index);
    if (rule.from) addSelector(drafts, rule.from, (draft) => (both ? draft.from[slot].both : draft.from[slot].only).push(index));
    if (rule.to) addSelector(drafts, rule.to, (draft) => (both ? draft.to[slot].both : draft.to[slot].only).push(index));
  });
  const groups = finish(drafts.groups, new Map());
  const impliedOf = (names: readonly string[] | undefined): KeyEntry[] =>
    (names ?? []).flatMap((name) => {
      const entry = groups.get(name);
      return entry === undefined ? [] : [entry];
    });
  // A group's entry needs its ancestors' entries: fill `implied` once all group entries exist.
  for (const [name, entry] of groups) (entry.implied as KeyEntry[]).push(...impliedOf(membership.byGroup.get(name)));
  const withImplied = (map: Map<string, Draft>, byKey: ReadonlyMap<string, readonly string[]>): Map<string, KeyEntry> => {
    for (const key of byKey.keys()) if (!map.has(key)) map.set(key, emptyDraft());
    const entries = finish(map, new Map());
    for (const [key, entry] of entries) (entry.implied as KeyEntry[]).push(...impliedOf(byKey.get(key)));
    return entries;
  };
  // Registry groups that only policy groups name (no rule does) still imply those groups.
  for (const name of membership.byGroup.keys()) {
    if (!groups.has(name) && impliedOf(membership.byGroup.get(name)).length > 0) {
      groups.set(name, { ...toEntry(emptyDraft()), implied: impliedOf(membership.byGroup.get(name)) });
    }
  }
  return {
    agents: withImplied(drafts.agents, membership.byAgent),
    institutions: withImplied(drafts.institutions, membership.byInstitution),
    groups,
    any: [Int32Array.from(any[0]), Int32Array.from(any[1])],
  };
}

function addSelector(
  drafts: Record<'agents' | 'institutions' | 'groups', Map<string, Draft>>,
  selector: PolicySelector,
  add: (draft: Draft) => void,
): void {
  for (const kind of ['agents', 'institutions', 'groups'] as const) {
    for (const key of new Set(selector[kind])) {
      let draft = drafts[kind].get(key);
      if (draft === undefined) {
        draft = emptyDraft();
        drafts[kind].set(key, draft);
      }
      add(draft);
    }
  }
}

function emptyDraft(): Draft {
  const slot = (): Slot => ({ both: [], only: [] });
  return { from: [slot(), slot()], to: [slot(), slot()] };
}

function finish(drafts: Map<string, Draft>, into: Map<string, KeyEntry>): Map<string, KeyEntry> {
  for (const [key, draft] of drafts) into.set(key, toEntry(draft));
  return into;
}

function toEntry(draft: Draft): KeyEntry {
  const lists = (slot: Slot): SideLists => ({ both: packed(slot.both), only: packed(slot.only) });
  return { from: [lists(draft.from[0]), lists(draft.from[1])], to: [lists(draft.to[0]), lists(draft.to[1])], implied: [] };
}

function packed(list: number[]): Int32Array | undefined {
  return list.length === 0 ? undefined : Int32Array.from(list);
}
