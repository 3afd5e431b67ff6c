import {
  compilePolicy,
  decidePolicy,
  type PolicyDocument,
  type PolicyInput,
  type PolicyRule,
  type PolicyWeekday,
  parsePolicyDocument,
  policyTime,
} from '@dmr/shared/policy';
import { describe, expect, it } from 'vitest';

function compiled(rules: readonly PolicyRule[], extra: Partial<PolicyDocument> = {}, version = 7) {
  const document = { format: 'dmr-policy/v1', defaultDecision: 'deny', rules, ...extra } as const;
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) throw new Error(`${parsed.field}: ${parsed.message}`);
  return compilePolicy(parsed.document, version);
}

function input(overrides: { from?: string; to?: string; type?: string; weekday?: PolicyWeekday; minute?: number } = {}): PolicyInput {
  return {
    sender: { id: overrides.from ?? 'tax-bot', institution: 'EMTA', groups: ['tax'], certificate: null },
    recipient: { id: overrides.to ?? 'police-bot', institution: 'PPA', groups: ['police'] },
    message: { type: overrides.type ?? 'ChatMessage' },
    time: { unixMs: 0, weekday: overrides.weekday ?? 'mon', minuteOfDay: overrides.minute ?? 540 },
  };
}

describe('decidePolicy', () => {
  it('allows everything with NO_POLICY and version 0 when no policy is in force', () => {
    expect(decidePolicy(undefined, input())).toEqual({ allow: true, reason: 'NO_POLICY', policyVersion: 0 });
  });

  it('falls back to the explicit default', () => {
    expect(decidePolicy(compiled([]), input())).toEqual({ allow: false, reason: 'DEFAULT_DENY', policyVersion: 7 });
    expect(decidePolicy(compiled([], { defaultDecision: 'allow' }), input())).toEqual({
      allow: true,
      reason: 'DEFAULT_ALLOW',
      policyVersion: 7,
    });
  });

  it('lets a deny rule win over an earlier matching allow rule', () => {
    const policy = compiled([
      { id: 'allow-all', effect: 'allow' },
      { id: 'deny-tax', effect: 'deny', from: { institutions: ['EMTA'] } },
      { id: 'deny-police', effect: 'deny', to: { agents: ['police-bot'] } },
    ]);
    expect(decidePolicy(policy, input())).toEqual({ allow: false, reason: 'DENY_RULE', ruleId: 'deny-tax', policyVersion: 7 });
    expect(decidePolicy(policy, input({ from: 'x' }))).toMatchObject({ ruleId: 'deny-tax' });
    expect(decidePolicy(policy, input({ to: 'other' }))).toMatchObject({ ruleId: 'deny-tax' });
  });

  it('names the first matching allow rule in document order', () => {
    const policy = compiled([
      { id: 'a-other', effect: 'allow', from: { agents: ['other'] } },
      { id: 'a-by-group', effect: 'allow', from: { groups: ['tax'] } },
      { id: 'a-by-agent', effect: 'allow', from: { agents: ['tax-bot'] } },
    ]);
    expect(decidePolicy(policy, input())).toEqual({ allow: true, reason: 'ALLOW_RULE', ruleId: 'a-by-group', policyVersion: 7 });
  });

  it('matches a selector when any of its lists contains the party', () => {
    const policy = compiled([{ id: 'r', effect: 'allow', to: { agents: ['nobody'], institutions: ['nothing'], groups: ['police'] } }]);
    expect(decidePolicy(policy, input()).allow).toBe(true);
    const miss = compiled([{ id: 'r', effect: 'allow', to: { agents: ['nobody'], institutions: ['nothing'], groups: ['tax'] } }]);
    expect(decidePolicy(miss, input()).allow).toBe(false);
  });

  it('follows policy groups through agents, institutions, registry groups and nesting', () => {
    const groups = {
      outer: { groups: ['middle'] },
      middle: { groups: ['inner', 'police'] },
      inner: { institutions: ['NONE'] },
      staff: { agents: ['tax-bot'] },
      empty: {},
    };
    const policy = compiled(
      [
        { id: 'to-outer', effect: 'allow', from: { groups: ['staff'] }, to: { groups: ['outer'] }, types: ['A'] },
        { id: 'to-empty', effect: 'allow', to: { groups: ['empty'] }, types: ['B'] },
      ],
      { groups },
    );
    // police-bot is in registry group `police`, which `middle` names, which `outer` names.
    expect(decidePolicy(policy, input({ type: 'A' }))).toMatchObject({ allow: true, ruleId: 'to-outer' });
    // Only tax-bot is staff.
    expect(decidePolicy(policy, input({ type: 'A', from: 'someone' }))).toMatchObject({ reason: 'DEFAULT_DENY' });
    expect(
      decidePolicy(policy, { ...input({ type: 'A' }), sender: { id: 'x', institution: '', groups: [], certificate: null } }),
    ).toMatchObject({
      reason: 'DEFAULT_DENY',
    });
    expect(decidePolicy(policy, input({ type: 'B' }))).toMatchObject({ reason: 'DEFAULT_DENY' });
  });

  it('treats a registry group with the name of a policy group as that group', () => {
    const policy = compiled([{ id: 'r', effect: 'allow', from: { groups: ['gov'] } }], { groups: { gov: { agents: ['someone'] } } });
    const sender = { id: 'x', institution: '', groups: ['gov'], certificate: null };
    expect(decidePolicy(policy, { ...input(), sender }).allow).toBe(true);
  });

  it('never matches an agent without institution through an institution list', () => {
    const policy = compiled([{ id: 'r', effect: 'allow', from: { institutions: ['EMTA'] } }]);
    const sender = { id: 'x', institution: '', groups: [], certificate: null };
    expect(decidePolicy(policy, { ...input(), sender }).allow).toBe(false);
  });

  it('filters by message type', () => {
    const policy = compiled([{ id: 'r', effect: 'allow', types: ['Ping'] }]);
    expect(decidePolicy(policy, input({ type: 'Ping' })).allow).toBe(true);
    expect(decidePolicy(policy, input({ type: 'ChatMessage' })).allow).toBe(false);
  });

  it('applies windows with an inclusive start and an exclusive end', () => {
    const policy = compiled([{ id: 'r', effect: 'allow', window: { days: ['mon', 'fri'], from: '08:00', to: '18:00' } }]);
    const at = (weekday: PolicyWeekday, minute: number) => decidePolicy(policy, input({ weekday, minute })).allow;
    expect([at('mon', 479), at('mon', 480), at('mon', 1079), at('mon', 1080)]).toEqual([false, true, true, false]);
    expect([at('fri', 600), at('tue', 600)]).toEqual([true, false]);
  });

  it('wraps a window with from > to past midnight, each minute checked against its own day', () => {
    const policy = compiled([{ id: 'night', effect: 'deny', window: { days: ['fri'], from: '22:00', to: '06:00' } }], {
      defaultDecision: 'allow',
    });
    const at = (weekday: PolicyWeekday, minute: number) => decidePolicy(policy, input({ weekday, minute })).allow;
    expect([at('fri', 1319), at('fri', 1320), at('fri', 1439), at('fri', 0), at('fri', 359), at('fri', 360)]).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
    ]);
    // Saturday 01:00 is after Friday 22:00, but the window's days name Friday only.
    expect(at('sat', 60)).toBe(true);
  });

  it('matches every minute of the listed days when a window has days only', () => {
    const policy = compiled([{ id: 'weekend', effect: 'allow', window: { days: ['sat', 'sun'] } }]);
    expect(decidePolicy(policy, input({ weekday: 'sun', minute: 0 })).allow).toBe(true);
    expect(decidePolicy(policy, input({ weekday: 'sun', minute: 1439 })).allow).toBe(true);
    expect(decidePolicy(policy, input({ weekday: 'mon', minute: 0 })).allow).toBe(false);
  });

  it('carries the version it was compiled with', () => {
    expect(decidePolicy(compiled([{ id: 'r', effect: 'allow' }], {}, 42), input())).toMatchObject({ policyVersion: 42 });
  });

  it('decides at 10 000 rules the same as the first matching rule found by a scan', () => {
    const rules: PolicyRule[] = Array.from({ length: 10_000 }, (_, i) => ({
      id: `r${i}`,
      effect: i % 7 === 0 ? 'deny' : 'allow',
      from: { institutions: [`I${i % 50}`] },
      to: { agents: [`agent-${i % 300}`] },
    }));
    const policy = compiled(rules);
    for (let i = 0; i < 120; i++) {
      const sender = { id: 's', institution: `I${i % 50}`, groups: [], certificate: null };
      const recipient = { id: `agent-${(i * 7) % 300}`, institution: '', groups: [] };
      const matching = rules.filter(
        (rule) => rule.from?.institutions?.includes(sender.institution) && rule.to?.agents?.includes(recipient.id),
      );
      const expected = matching.find((rule) => rule.effect === 'deny') ?? matching.find((rule) => rule.effect === 'allow');
      expect(decidePolicy(policy, { ...input(), sender, recipient }).ruleId).toBe(expected?.id);
    }
  });
});

describe('policyTime', () => {
  it('gives the week day and minute in UTC', () => {
    // 2026-12-07 is a Monday.
    expect(policyTime(Date.UTC(2026, 11, 7, 9, 0, 30), 'UTC')).toEqual({
      unixMs: Date.UTC(2026, 11, 7, 9, 0, 30),
      weekday: 'mon',
      minuteOfDay: 540,
    });
    expect(policyTime(Date.UTC(2026, 11, 6, 23, 59), 'UTC')).toMatchObject({ weekday: 'sun', minuteOfDay: 1439 });
    expect(policyTime(Date.UTC(1969, 11, 31, 0, 0), 'UTC')).toMatchObject({ weekday: 'wed', minuteOfDay: 0 });
  });

  it('follows daylight saving time in Europe/Tallinn', () => {
    // Summer (UTC+3) and winter (UTC+2).
    expect(policyTime(Date.UTC(2026, 6, 6, 6, 0), 'Europe/Tallinn')).toMatchObject({ weekday: 'mon', minuteOfDay: 540 });
    expect(policyTime(Date.UTC(2026, 11, 7, 7, 0), 'Europe/Tallinn')).toMatchObject({ weekday: 'mon', minuteOfDay: 540 });
    // 2026-03-29 01:00 UTC: clocks jump from 03:00 to 04:00 local.
    expect(policyTime(Date.UTC(2026, 2, 29, 0, 59), 'Europe/Tallinn')).toMatchObject({ weekday: 'sun', minuteOfDay: 179 });
    expect(policyTime(Date.UTC(2026, 2, 29, 1, 0), 'Europe/Tallinn')).toMatchObject({ weekday: 'sun', minuteOfDay: 240 });
    // 2026-10-25 01:00 UTC: clocks fall back from 04:00 to 03:00 local.
    expect(policyTime(Date.UTC(2026, 9, 25, 0, 59), 'Europe/Tallinn')).toMatchObject({ minuteOfDay: 239 });
    expect(policyTime(Date.UTC(2026, 9, 25, 1, 0), 'Europe/Tallinn')).toMatchObject({ minuteOfDay: 180 });
  });

  it('crosses the date line to another week day', () => {
    expect(policyTime(Date.UTC(2026, 11, 7, 23, 30), 'Pacific/Auckland')).toMatchObject({ weekday: 'tue', minuteOfDay: 750 });
    expect(policyTime(Date.UTC(2026, 11, 7, 3, 0), 'America/New_York')).toMatchObject({ weekday: 'sun', minuteOfDay: 1320 });
  });

  it('answers repeated calls in the same minute the same, with their own unixMs', () => {
    const a = policyTime(Date.UTC(2026, 11, 7, 9, 0, 1), 'Europe/Tallinn');
    const b = policyTime(Date.UTC(2026, 11, 7, 9, 0, 59), 'Europe/Tallinn');
    expect([a.weekday, a.minuteOfDay]).toEqual([b.weekday, b.minuteOfDay]);
    expect(b.unixMs).toBe(Date.UTC(2026, 11, 7, 9, 0, 59));
  });

  it('gives a window in a DST zone the local wall clock', () => {
    const policy = compiled([{ id: 'office', effect: 'allow', window: { from: '09:00', to: '17:00' } }], { timeZone: 'Europe/Tallinn' });
    const at = (unixMs: number) => decidePolicy(policy, { ...input(), time: policyTime(unixMs, policy.timeZone) }).allow;
    expect(at(Date.UTC(2026, 6, 6, 6, 0))).toBe(true); // 09:00 summer time
    expect(at(Date.UTC(2026, 11, 7, 6, 0))).toBe(false); // 08:00 winter time
    expect(at(Date.UTC(2026, 11, 7, 7, 0))).toBe(true); // 09:00 winter time
  });
});
