import { MAX_POLICY_BYTES, type PolicyParseResult, parsePolicyDocument, parsePolicyText } from '@dmr/shared/policy';
import { describe, expect, it } from 'vitest';

const base = {
  format: 'dmr-policy/v1',
  defaultDecision: 'deny',
  groups: { gov: { agents: ['tax-bot'], groups: ['frontline'] }, frontline: { agents: ['rescue-bot'] } },
  rules: [{ id: 'r0', effect: 'allow', from: { groups: ['gov'] }, to: { agents: ['police-bot'] } }],
};

function withRule(rule: Record<string, unknown>): unknown {
  return { ...base, rules: [...base.rules, { id: 'r1', effect: 'deny', ...rule }] };
}

function refused(result: PolicyParseResult): { field: string; message: string } {
  expect(result.ok).toBe(false);
  return result as { field: string; message: string };
}

describe('parsePolicyDocument accepts', () => {
  it('the example of docs/policy.md', () => {
    const example = {
      format: 'dmr-policy/v1',
      defaultDecision: 'deny',
      timeZone: 'Europe/Tallinn',
      groups: { gov: { agents: ['tax-bot'], institutions: ['PPA'], groups: ['frontline'] }, frontline: { agents: ['rescue-bot'] } },
      rules: [
        { id: 'citizens-to-police', effect: 'allow', from: { groups: ['gov'] }, to: { agents: ['police-bot'] } },
        { id: 'no-night-tax', effect: 'deny', to: { institutions: ['EMTA'] }, window: { days: ['sat', 'sun'] } },
        {
          id: 'office-hours',
          effect: 'allow',
          from: { institutions: ['EMTA'] },
          types: ['ChatMessage'],
          window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' },
        },
      ],
    };
    const result = parsePolicyDocument(example);
    expect(result).toEqual({ ok: true, document: example });
  });

  it('no rules, no groups, an empty group, version and description', () => {
    expect(parsePolicyDocument({ format: 'dmr-policy/v1', defaultDecision: 'allow', rules: [] }).ok).toBe(true);
    const doc = { ...base, version: 3, description: 'ok', groups: { ...base.groups, nobody: {} } };
    expect(parsePolicyDocument(doc).ok).toBe(true);
  });

  it('nesting exactly 8 deep, and a group naming a registry group it does not define', () => {
    const groups: Record<string, unknown> = { n7: { groups: ['registry-only'] } };
    for (let i = 0; i < 7; i++) groups[`n${i}`] = { groups: [`n${i + 1}`] };
    expect(parsePolicyDocument({ ...base, groups }).ok).toBe(true);
  });
});

describe('parsePolicyDocument refuses, naming the field', () => {
  it.each([
    ['not an object', [], ''],
    ['an unknown top-level member', { ...base, extra: 1 }, 'extra'],
    ['a wrong format', { ...base, format: 'dmr-policy/v2' }, 'format'],
    ['a missing defaultDecision', { ...base, defaultDecision: undefined }, 'defaultDecision'],
    ['an unknown time zone', { ...base, timeZone: 'Mars/Olympus' }, 'timeZone'],
    ['version 0', { ...base, version: 0 }, 'version'],
    ['a long description', { ...base, description: 'x'.repeat(1025) }, 'description'],
    ['rules that are not an array', { ...base, rules: {} }, 'rules'],
    ['an unknown member in a group', { ...base, groups: { gov: { agents: [], people: [] } } }, 'groups.gov.people'],
    ['a bad group name', { ...base, groups: { 'bad name': {} } }, 'groups.bad name'],
    [
      '__proto__ as a group name',
      JSON.parse('{"format":"dmr-policy/v1","defaultDecision":"deny","groups":{"__proto__":{}},"rules":[]}'),
      'groups.__proto__',
    ],
    ['an empty institution', { ...base, groups: { gov: { institutions: [''] } } }, 'groups.gov.institutions.0'],
    ['an unknown member in a rule', withRule({ priority: 1 }), 'rules.1.priority'],
    ['an unknown member in a selector', withRule({ from: { agent: ['a'] } }), 'rules.1.from.agent'],
    ['an unknown member in a window', withRule({ window: { days: ['mon'], tz: 'UTC' } }), 'rules.1.window.tz'],
    ['a bad effect', withRule({ effect: 'maybe' }), 'rules.1.effect'],
    ['a bad rule id', withRule({ id: '-x' }), 'rules.1.id'],
    ['a duplicate rule id', withRule({ id: 'r0' }), 'rules.1.id'],
    ['an empty selector', withRule({ to: {} }), 'rules.1.to'],
    ['a selector of empty lists', withRule({ from: { agents: [], groups: [] } }), 'rules.1.from'],
    ['a bad agent name', withRule({ from: { agents: ['a b'] } }), 'rules.1.from.agents.0'],
    ['empty types', withRule({ types: [] }), 'rules.1.types'],
    ['an empty window', withRule({ window: {} }), 'rules.1.window'],
    ['empty days', withRule({ window: { days: [] } }), 'rules.1.window.days'],
    ['an unknown day', withRule({ window: { days: ['mon', 'someday'] } }), 'rules.1.window.days.1'],
    ['a repeated day', withRule({ window: { days: ['mon', 'mon'] } }), 'rules.1.window.days.1'],
    ['from without to', withRule({ window: { from: '08:00' } }), 'rules.1.window.to'],
    ['to without from', withRule({ window: { to: '08:00' } }), 'rules.1.window.from'],
    ['24:00', withRule({ window: { from: '08:00', to: '24:00' } }), 'rules.1.window.to'],
    ['H:MM', withRule({ window: { from: '8:00', to: '18:00' } }), 'rules.1.window.from'],
    ['from == to', withRule({ window: { from: '08:00', to: '08:00' } }), 'rules.1.window.to'],
    ['a NUL in a description', withRule({ description: 'a\u0000b' }), 'rules.1.description'],
    ['a lone surrogate in a type', withRule({ types: ['Chat\ud800'] }), 'rules.1.types.0'],
    ['a lone surrogate in an institution', withRule({ to: { institutions: ['\udc00EMTA'] } }), 'rules.1.to.institutions.0'],
  ])('%s', (_name, document, field) => {
    expect(refused(parsePolicyDocument(document)).field).toBe(field);
  });

  it('a cycle between groups, naming it', () => {
    const groups = { a: { groups: ['b'] }, b: { groups: ['c'] }, c: { groups: ['a'] } };
    const refusal = refused(parsePolicyDocument({ ...base, groups }));
    expect(refusal.field).toBe('groups.a.groups');
    expect(refusal.message).toContain('a → b → c → a');
  });

  it('a group that names itself', () => {
    const refusal = refused(parsePolicyDocument({ ...base, groups: { self: { groups: ['self'] } } }));
    expect(refusal.message).toContain('self → self');
  });

  it('nesting 9 deep', () => {
    const groups: Record<string, unknown> = { n8: {} };
    for (let i = 0; i < 8; i++) groups[`n${i}`] = { groups: [`n${i + 1}`] };
    const refusal = refused(parsePolicyDocument({ ...base, groups }));
    expect(refusal.field).toBe('groups.n0.groups');
    expect(refusal.message).toContain('at most 8');
  });

  it('1001 groups', () => {
    const groups = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`g${i}`, {}]));
    expect(refused(parsePolicyDocument({ ...base, groups })).field).toBe('groups');
  });

  it('100 000 rules, before looking at any of them', () => {
    // Every rule is broken too: a refusal that names `rules` (not rules.0) shows the count was checked first.
    const rules = Array.from({ length: 100_000 }, () => ({ bad: true }));
    const refusal = refused(parsePolicyDocument({ ...base, rules }));
    expect(refusal.field).toBe('rules');
    expect(refusal.message).toContain('at most 50000');
  });

  it('50 000 rules are accepted', () => {
    const rules = Array.from({ length: 50_000 }, (_, i) => ({ id: `r${i}`, effect: 'allow', from: { agents: [`a${i}`] } }));
    expect(parsePolicyDocument({ ...base, rules }).ok).toBe(true);
  });
});

describe('parsePolicyText', () => {
  const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

  it('decodes and validates', () => {
    expect(parsePolicyText(encode(base))).toEqual({ ok: true, document: base });
    expect(refused(parsePolicyText(encode({ ...base, extra: 1 }))).field).toBe('extra');
  });

  it('refuses bytes that are not UTF-8', () => {
    const bytes = Uint8Array.from([...new TextEncoder().encode('{"format":"'), 0xc3, 0x28, ...new TextEncoder().encode('"}')]);
    expect(refused(parsePolicyText(bytes)).message).toContain('UTF-8');
  });

  it('refuses text that is not JSON', () => {
    expect(refused(parsePolicyText(new TextEncoder().encode('{"format":'))).message).toContain('JSON');
  });

  it(`refuses more than MAX_POLICY_BYTES (${MAX_POLICY_BYTES}) without decoding`, () => {
    expect(refused(parsePolicyText(new Uint8Array(MAX_POLICY_BYTES + 1))).message).toContain(String(MAX_POLICY_BYTES));
  });
});
