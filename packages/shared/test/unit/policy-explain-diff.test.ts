import {
  compilePolicy,
  diffPolicies,
  explainPolicy,
  MAX_DIFF_DECISIONS,
  MAX_DIFF_PARTIES,
  OTHER_TYPE,
  type PolicyDocument,
  type PolicyParty,
  type PolicyRule,
} from '@dmr/shared/policy';
import { describe, expect, it } from 'vitest';

const policy = (rules: readonly PolicyRule[], version = 1, extra: Partial<PolicyDocument> = {}) =>
  compilePolicy({ format: 'dmr-policy/v1', defaultDecision: 'deny', rules, ...extra }, version);
const parties: PolicyParty[] = [
  { id: 'a', institution: 'EMTA', groups: ['tax'] },
  { id: 'b', institution: 'PPA', groups: [] },
  { id: 'c', institution: '', groups: ['tax'] },
];
const input = (from: PolicyParty, to: PolicyParty, minuteOfDay = 600) => ({
  sender: { ...from, certificate: null },
  recipient: to,
  message: { type: 'ChatMessage' },
  time: { unixMs: 0, weekday: 'mon' as const, minuteOfDay },
});

describe('explainPolicy', () => {
  it('lists every rule up to the deciding one with the conditions it failed', () => {
    const compiled = policy([
      { id: 'from-ppa', effect: 'allow', from: { institutions: ['PPA'] } },
      { id: 'tax-all', effect: 'allow', from: { groups: ['tax'] }, types: ['Ping'] },
      { id: 'office', effect: 'allow', window: { from: '08:00', to: '09:00' } },
      { id: 'a-to-b', effect: 'allow', from: { agents: ['a'] }, to: { agents: ['b'] } },
      { id: 'later', effect: 'deny', to: { agents: ['nobody'] } },
    ]);
    const explanation = explainPolicy(compiled, input(parties[0] as PolicyParty, parties[1] as PolicyParty));
    expect(explanation.decision).toEqual({ allow: true, reason: 'ALLOW_RULE', ruleId: 'a-to-b', policyVersion: 1 });
    expect(explanation.rules.map((rule) => [rule.id, rule.matched])).toEqual([
      ['from-ppa', false],
      ['tax-all', false],
      ['office', false],
      ['a-to-b', true],
    ]);
    expect(explanation.rules[0]?.mismatches).toEqual(['sender a (institution EMTA; groups tax) is not in from {institutions [PPA]}']);
    expect(explanation.rules[1]?.mismatches).toEqual(['type ChatMessage is not in types [Ping]']);
    expect(explanation.rules[2]?.mismatches).toEqual(['10:00 is outside the window 08:00–09:00']);
  });

  it('lists all rules for a default decision, and none without a policy', () => {
    const compiled = policy([{ id: 'x', effect: 'allow', to: { agents: ['z'] } }]);
    const explanation = explainPolicy(compiled, input(parties[0] as PolicyParty, parties[1] as PolicyParty));
    expect(explanation.decision.reason).toBe('DEFAULT_DENY');
    expect(explanation.rules).toHaveLength(1);
    expect(explainPolicy(undefined, input(parties[0] as PolicyParty, parties[1] as PolicyParty))).toMatchObject({
      decision: { reason: 'NO_POLICY' },
      rules: [],
    });
  });
});

describe('diffPolicies', () => {
  it('finds gains and losses per pair and type', () => {
    const before = policy([{ id: 'tax-out', effect: 'allow', from: { groups: ['tax'] } }]);
    const after = policy([{ id: 'to-ppa', effect: 'allow', to: { institutions: ['PPA'] }, types: ['ChatMessage'] }], 2);
    const diff = diffPolicies(before, after, parties);
    if (!diff.ok) throw new Error(diff.message);
    const changes = diff.entries.map((entry) => `${entry.from}>${entry.to}:${entry.type}:${entry.change}`).sort();
    expect(changes).toEqual(['a>b:*:lose', 'a>c:*:lose', 'a>c:ChatMessage:lose', 'c>a:*:lose', 'c>a:ChatMessage:lose', 'c>b:*:lose']);
    expect(diffPolicies(undefined, after, parties, { type: 'ChatMessage', unixMs: 0 })).toMatchObject({ ok: true });
    expect(OTHER_TYPE).toBe('*');
  });

  it('finds a change that only shows inside a window, at the window start', () => {
    const before = policy([{ id: 'all', effect: 'allow' }]);
    const after = policy([
      { id: 'all', effect: 'allow' },
      { id: 'night', effect: 'deny', from: { agents: ['a'] }, window: { days: ['sat'], from: '22:00', to: '06:00' } },
    ]);
    const diff = diffPolicies(before, after, parties, { type: 'ChatMessage' });
    if (!diff.ok) throw new Error(diff.message);
    expect(diff.entries.map((entry) => [entry.from, entry.to, entry.change, entry.at])).toEqual([
      ['a', 'b', 'lose', { weekday: 'sat', minuteOfDay: 0 }],
      ['a', 'c', 'lose', { weekday: 'sat', minuteOfDay: 0 }],
    ]);
  });

  it(`refuses more than ${MAX_DIFF_PARTIES} parties and more than ${MAX_DIFF_DECISIONS} decisions, without deciding`, () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `p${i}`, institution: '', groups: [] }));
    const after = policy([{ id: 'r', effect: 'allow', window: { from: '08:00', to: '09:00' }, types: ['A'] }]);
    expect(diffPolicies(undefined, after, many(MAX_DIFF_PARTIES + 1))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/at most 2000/),
    });
    // 2000 × 1999 pairs × 2 types × 3 slices × 2 > 20 000 000
    expect(diffPolicies(undefined, after, many(2000))).toMatchObject({ ok: false, message: expect.stringMatching(/--type, --at/) });
  });
});
