// Validation of a policy document's `groups`: members, names, cycles and nesting depth (docs/policy.md "Groups"). Pure.

import { MAX_POLICY_GROUP_DEPTH } from './document.js';
import { checkKeys, checkList, checkName, checkText, isObject, join, type Refusal, refuse } from './parse-values.js';

const SELECTOR_KEYS = ['agents', 'institutions', 'groups'] as const;
/** Longest institution name; the registry's limit for the field. */
export const MAX_INSTITUTION_LENGTH = 256;

/** Checks `groups` (already known to be an object of at most MAX_POLICY_GROUPS members, or absent). */
export function checkGroups(groups: unknown): Refusal | undefined {
  if (groups === undefined) return undefined;
  const defined = groups as Record<string, unknown>;
  for (const [name, members] of Object.entries(defined)) {
    const field = join('groups', name);
    const problem = checkName(name, field) ?? checkMembers(members, field);
    if (problem) return problem;
  }
  return checkNesting(defined as Record<string, { groups?: string[] }>);
}

/** Checks the lists of a group or selector (`{}` is fine for a group; selectors refuse it themselves). */
export function checkMembers(value: unknown, field: string): Refusal | undefined {
  if (!isObject(value)) return refuse(field, `${field} must be a JSON object with agents, institutions and/or groups`);
  return (
    checkKeys(value, SELECTOR_KEYS, field) ??
    (value.agents === undefined ? undefined : checkList(value.agents, join(field, 'agents'), checkName)) ??
    (value.institutions === undefined ? undefined : checkList(value.institutions, join(field, 'institutions'), checkInstitution)) ??
    (value.groups === undefined ? undefined : checkList(value.groups, join(field, 'groups'), checkName))
  );
}

function checkInstitution(value: unknown, field: string): Refusal | undefined {
  if (value === '') return refuse(field, `${field} must not be empty`);
  return checkText(value, field, MAX_INSTITUTION_LENGTH);
}

/** Refuses the first cycle between policy groups (naming it) and nesting deeper than MAX_POLICY_GROUP_DEPTH. */
function checkNesting(groups: Record<string, { groups?: string[] }>): Refusal | undefined {
  const depth = new Map<string, number>();
  const onPath: string[] = [];
  const visit = (name: string): Refusal | undefined => {
    const at = onPath.indexOf(name);
    if (at >= 0) {
      const cycle = [...onPath.slice(at), name];
      return refuse(join(join('groups', cycle[0] as string), 'groups'), `groups form a cycle: ${cycle.join(' → ')}`);
    }
    if (depth.has(name)) return undefined;
    onPath.push(name);
    let deepest = 0;
    for (const child of groups[name]?.groups ?? []) {
      if (!Object.hasOwn(groups, child)) continue;
      const problem = visit(child);
      if (problem) return problem;
      deepest = Math.max(deepest, depth.get(child) ?? 0);
    }
    onPath.pop();
    depth.set(name, deepest + 1);
    if (deepest + 1 > MAX_POLICY_GROUP_DEPTH) {
      return refuse(
        join(join('groups', name), 'groups'),
        `group "${name}" nests ${deepest + 1} groups deep; at most ${MAX_POLICY_GROUP_DEPTH} are accepted`,
      );
    }
    return undefined;
  };
  for (const name of Object.keys(groups)) {
    const problem = visit(name);
    if (problem) return problem;
  }
  return undefined;
}
