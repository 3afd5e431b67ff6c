// The rule index deploy/policy/dmr.rego looks candidate rules up in (`data.dmr.index`, docs/policy.md "Rego and
// OPA"): the same lookups the built-in engine's rule-index makes, as plain JSON. Pure.

import type { PolicyDocument, PolicySelector } from './document.js';
import { buildMembership } from './membership.js';

/**
 * `data.dmr.index`. Keys: `a:<agent id>`, `i:<institution>`, `g:<group name>`; every list holds rule indices,
 * ascending, each once. `from`/`to`: key → the rules with both selectors whose selector on that side names the key
 * (a candidate when both sides find it). `fromOnly`/`toOnly`: key → the rules with a selector on that side only (a
 * candidate when that side finds it). `any`: the rules with neither selector (candidates for every message).
 * `groups`: key → the policy groups that key puts a party in, transitively (policy-group membership expanded, so the
 * Rego needs no graph walk per decision); keys that imply no group are absent.
 */
export interface RegoIndex {
  readonly from: Readonly<Record<string, readonly number[]>>;
  readonly to: Readonly<Record<string, readonly number[]>>;
  readonly fromOnly: Readonly<Record<string, readonly number[]>>;
  readonly toOnly: Readonly<Record<string, readonly number[]>>;
  readonly any: readonly number[];
  readonly groups: Readonly<Record<string, readonly string[]>>;
}

/** Builds `data.dmr.index` for a document accepted by `parsePolicyDocument`. Linear in the document's size. */
export function buildRegoIndex(document: PolicyDocument): RegoIndex {
  const from = new Map<string, number[]>();
  const to = new Map<string, number[]>();
  const fromOnly = new Map<string, number[]>();
  const toOnly = new Map<string, number[]>();
  const any: number[] = [];
  document.rules.forEach((rule, index) => {
    if (rule.from === undefined && rule.to === undefined) any.push(index);
    const both = rule.from !== undefined && rule.to !== undefined;
    if (rule.from !== undefined) addSelector(both ? from : fromOnly, rule.from, index);
    if (rule.to !== undefined) addSelector(both ? to : toOnly, rule.to, index);
  });
  const membership = buildMembership(document.groups);
  const groups = new Map<string, readonly string[]>();
  const addGroups = (prefix: string, byKey: ReadonlyMap<string, readonly string[]>): void => {
    for (const [key, names] of byKey) if (names.length > 0) groups.set(prefix + key, [...names].sort());
  };
  addGroups('a:', membership.byAgent);
  addGroups('i:', membership.byInstitution);
  addGroups('g:', membership.byGroup);
  return { from: sorted(from), to: sorted(to), fromOnly: sorted(fromOnly), toOnly: sorted(toOnly), any, groups: sorted(groups) };
}

function addSelector(map: Map<string, number[]>, selector: PolicySelector, index: number): void {
  for (const agent of selector.agents ?? []) push(map, `a:${agent}`, index);
  for (const institution of selector.institutions ?? []) push(map, `i:${institution}`, index);
  for (const group of selector.groups ?? []) push(map, `g:${group}`, index);
}

/** Appends `index` unless it is already last (rules arrive in order, so each list stays ascending and unique). */
function push(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [index]);
  else if (list[list.length - 1] !== index) list.push(index);
}

/** A plain object with its keys in sorted order (deterministic JSON). */
function sorted<T>(map: ReadonlyMap<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of [...map.keys()].sort()) out[key] = map.get(key) as T;
  return out;
}
