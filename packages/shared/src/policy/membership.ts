// Transitive policy-group membership, precomputed when a policy is compiled (docs/policy.md "Groups"). Pure.

import type { PolicyGroup } from './document.js';
import type { PolicyParty } from './types.js';

const NONE: readonly string[] = [];

/** Which policy groups an agent id, an institution or a group name puts a party in, transitively. */
export interface GroupMembership {
  readonly byAgent: ReadonlyMap<string, readonly string[]>;
  readonly byInstitution: ReadonlyMap<string, readonly string[]>;
  /** Group name → the policy groups that contain it, directly or through other groups (not itself). */
  readonly byGroup: ReadonlyMap<string, readonly string[]>;
}

/** Precomputes membership for the document's groups (already checked: no cycles, bounded depth). */
export function buildMembership(groups: Readonly<Record<string, PolicyGroup>> | undefined): GroupMembership {
  const parents = new Map<string, string[]>();
  const direct = { agents: new Map<string, string[]>(), institutions: new Map<string, string[]>() };
  for (const [name, group] of Object.entries(groups ?? {})) {
    for (const child of group.groups ?? NONE) push(parents, child, name);
    for (const agent of group.agents ?? NONE) push(direct.agents, agent, name);
    for (const institution of group.institutions ?? NONE) push(direct.institutions, institution, name);
  }
  const byGroup = new Map<string, readonly string[]>();
  const ancestors = (name: string): readonly string[] => {
    const known = byGroup.get(name);
    if (known) return known;
    const found = new Set<string>();
    for (const parent of parents.get(name) ?? NONE) {
      found.add(parent);
      for (const above of ancestors(parent)) found.add(above);
    }
    const list = [...found];
    byGroup.set(name, list);
    return list;
  };
  for (const name of parents.keys()) ancestors(name);
  const close = (map: Map<string, string[]>): Map<string, readonly string[]> =>
    new Map([...map].map(([key, names]) => [key, unique(names.flatMap((name) => [name, ...ancestors(name)]))]));
  return { byAgent: close(direct.agents), byInstitution: close(direct.institutions), byGroup };
}

/** Every group `party` is in: its registry groups and the policy groups they, its id and its institution imply. */
export function effectiveGroups(membership: GroupMembership, party: PolicyParty): readonly string[] {
  let implied: string[] | undefined;
  const add = (names: readonly string[] | undefined): void => {
    if (names === undefined || names.length === 0) return;
    implied ??= [];
    for (const name of names) implied.push(name);
  };
  for (const group of party.groups) add(membership.byGroup.get(group));
  add(membership.byAgent.get(party.id));
  if (party.institution !== '') add(membership.byInstitution.get(party.institution));
  return implied === undefined ? party.groups : [...party.groups, ...(implied as string[])];
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
