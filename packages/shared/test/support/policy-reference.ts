// A naive policy evaluator written straight from docs/policy.md, and a deterministic generator of policy cases.
// Tests compare the compiled built-in engine (and the OPA engines) against these. Test support only.

import type {
  PolicyDecision,
  PolicyDocument,
  PolicyInput,
  PolicyParty,
  PolicyRule,
  PolicySelector,
  PolicyWeekday,
} from '@dmr/shared/policy';

/** The decision docs/policy.md prescribes, computed the slow obvious way: no indexes, no precomputation. */
export function referenceDecide(document: PolicyDocument | undefined, version: number, input: PolicyInput): PolicyDecision {
  if (document === undefined) return { allow: true, reason: 'NO_POLICY', policyVersion: 0 };
  const matching = document.rules.filter((rule) => ruleMatches(document, rule, input));
  const deny = matching.find((rule) => rule.effect === 'deny');
  if (deny) return { allow: false, reason: 'DENY_RULE', ruleId: deny.id, policyVersion: version };
  const allow = matching.find((rule) => rule.effect === 'allow');
  if (allow) return { allow: true, reason: 'ALLOW_RULE', ruleId: allow.id, policyVersion: version };
  return document.defaultDecision === 'allow'
    ? { allow: true, reason: 'DEFAULT_ALLOW', policyVersion: version }
    : { allow: false, reason: 'DEFAULT_DENY', policyVersion: version };
}

/** Whether the party is a member of group `name` (docs/policy.md "Groups", the four conditions). */
export function referenceMemberOf(document: PolicyDocument, party: PolicyParty, name: string): boolean {
  if (party.groups.includes(name)) return true;
  const group = document.groups?.[name];
  if (group === undefined || !Object.hasOwn(document.groups ?? {}, name)) return false;
  if (group.agents?.includes(party.id)) return true;
  if (group.institutions?.includes(party.institution)) return true;
  return (group.groups ?? []).some((inner) => referenceMemberOf(document, party, inner));
}

function ruleMatches(document: PolicyDocument, rule: PolicyRule, input: PolicyInput): boolean {
  return (
    selectorMatches(document, rule.from, input.sender) &&
    selectorMatches(document, rule.to, input.recipient) &&
    (rule.types === undefined || rule.types.includes(input.message.type)) &&
    windowMatches(rule, input.time.weekday, input.time.minuteOfDay)
  );
}

function selectorMatches(document: PolicyDocument, selector: PolicySelector | undefined, party: PolicyParty): boolean {
  if (selector === undefined) return true;
  if (selector.agents?.includes(party.id)) return true;
  if (selector.institutions?.includes(party.institution)) return true;
  return (selector.groups ?? []).some((name) => referenceMemberOf(document, party, name));
}

function windowMatches(rule: PolicyRule, weekday: PolicyWeekday, minuteOfDay: number): boolean {
  const window = rule.window;
  if (window === undefined) return true;
  if (window.days !== undefined && !window.days.includes(weekday)) return false;
  if (window.from === undefined || window.to === undefined) return true;
  const from = minutes(window.from);
  const to = minutes(window.to);
  if (from < to) return from <= minuteOfDay && minuteOfDay < to;
  return minuteOfDay >= from || minuteOfDay < to;
}

function minutes(clock: string): number {
  const [hours, mins] = clock.split(':').map(Number);
  return (hours as number) * 60 + (mins as number);
}

// ---------------------------------------------------------------------------------------------------------------
// Generated cases

/** A generated document (with the version to decide under) and inputs aimed at its edges. */
export interface PolicyCases {
  readonly document: PolicyDocument;
  readonly version: number;
  readonly inputs: readonly PolicyInput[];
}

export const CASE_WEEKDAYS: readonly PolicyWeekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const TYPES = ['ChatMessage', 'Ping', 'Report'];
const INSTITUTIONS = ['EMTA', 'PPA', 'RIA', 'SMIT'];
const REGISTRY_GROUPS = ['gov', 'tax', 'police', 'unused'];
const POLICY_GROUPS = ['g0', 'g1', 'g2', 'g3', 'g4', 'empty'];
const CLOCKS = ['00:00', '06:00', '08:00', '09:30', '12:00', '18:00', '22:00', '23:59'];

/** A small deterministic PRNG (mulberry32), so a seed always gives the same cases. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A deterministic document of 1–40 rules over a small universe (12 agents, 4 institutions, registry and policy
 * groups with nesting and an empty group, types, windows with days, clock ranges and midnight wrap) and `count`
 * inputs whose minutes sit on, just before and just after the window boundaries. Same seed → same cases.
 */
export function generatePolicyCases(seed: number, count: number): PolicyCases {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const some = <T>(items: readonly T[], max: number): T[] => [
    ...new Set(Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(items))),
  ];
  const agents = generateAgents(random, pick, some);
  const document = generateDocument(random, pick, some, agents);
  const inputs = Array.from({ length: count }, () => generateInput(random, pick, agents));
  return { document, version: 1 + Math.floor(random() * 1000), inputs };
}

type Pick = <T>(items: readonly T[]) => T;
type Some = <T>(items: readonly T[], max: number) => T[];

function generateAgents(random: () => number, pick: Pick, some: Some): PolicyParty[] {
  return Array.from({ length: 12 }, (_, i) => ({
    id: `agent-${i}`,
    institution: random() < 0.2 ? '' : pick(INSTITUTIONS),
    groups: random() < 0.3 ? [] : some(REGISTRY_GROUPS, 2),
  }));
}

function generateDocument(random: () => number, pick: Pick, some: Some, agents: readonly PolicyParty[]): PolicyDocument {
  const ids = agents.map((agent) => agent.id);
  const groups: Record<string, PolicySelector> = { empty: {} };
  // g_i may only name g_j with j > i (and registry groups), so there is never a cycle.
  for (let i = 0; i < 5; i++) {
    const group: { agents?: string[]; institutions?: string[]; groups?: string[] } = {};
    if (random() < 0.6) group.agents = some(ids, 3);
    if (random() < 0.4) group.institutions = some(INSTITUTIONS, 2);
    const later = [...POLICY_GROUPS.slice(i + 1), ...REGISTRY_GROUPS];
    if (random() < 0.5) group.groups = some(later, 2);
    groups[`g${i}`] = group;
  }
  const ruleCount = 1 + Math.floor(random() * 40);
  const rules = Array.from({ length: ruleCount }, (_, i) => generateRule(i, random, pick, some, ids));
  return {
    format: 'dmr-policy/v1',
    defaultDecision: random() < 0.5 ? 'allow' : 'deny',
    ...(random() < 0.3 ? { timeZone: pick(['UTC', 'Europe/Tallinn', 'America/New_York']) } : {}),
    groups,
    rules,
  };
}

function generateRule(i: number, random: () => number, pick: Pick, some: Some, ids: readonly string[]): PolicyRule {
  const selector = (): PolicySelector | undefined => {
    if (random() < 0.3) return undefined;
    const s: { agents?: string[]; institutions?: string[]; groups?: string[] } = {};
    const kind = random();
    if (kind < 0.4) s.agents = some(ids, 3);
    else if (kind < 0.7) s.institutions = some(INSTITUTIONS, 2);
    else s.groups = some([...POLICY_GROUPS, ...REGISTRY_GROUPS, 'nowhere'], 2);
    if (random() < 0.2) s.agents = [...(s.agents ?? []), pick(ids)];
    return s;
  };
  const rule: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = { id: `r${i}`, effect: random() < 0.4 ? 'deny' : 'allow' };
  const from = selector();
  const to = selector();
  if (from) rule.from = from;
  if (to) rule.to = to;
  if (random() < 0.3) rule.types = some(TYPES, 2);
  if (random() < 0.35) rule.window = generateWindow(random, pick, some);
  return rule;
}

function generateWindow(random: () => number, pick: Pick, some: Some): NonNullable<PolicyRule['window']> {
  const withDays = random() < 0.6;
  const withClock = !withDays || random() < 0.6;
  let from = pick(CLOCKS);
  let to = pick(CLOCKS);
  while (to === from) to = pick(CLOCKS);
  if (random() < 0.2) [from, to] = [to, from];
  return {
    ...(withDays ? { days: some(CASE_WEEKDAYS, 4) } : {}),
    ...(withClock ? { from, to } : {}),
  };
}

function generateInput(random: () => number, pick: Pick, agents: readonly PolicyParty[]): PolicyInput {
  const sender = pick(agents);
  const recipient = random() < 0.1 ? { id: 'stranger', institution: '', groups: [] } : pick(agents);
  const boundary = CLOCKS.map(minutes);
  const base = random() < 0.8 ? pick(boundary) : Math.floor(random() * 1440);
  const minuteOfDay = (base + pick([-1, 0, 0, 1]) + 1440) % 1440;
  const type = random() < 0.15 ? 'Unnamed' : pick(TYPES);
  return {
    sender: { ...sender, certificate: random() < 0.5 ? null : { subject: `CN=${sender.id}`, serial: '0A1B' } },
    recipient,
    message: { type },
    time: { unixMs: 1_796_630_400_000, weekday: pick(CASE_WEEKDAYS), minuteOfDay },
  };
}
