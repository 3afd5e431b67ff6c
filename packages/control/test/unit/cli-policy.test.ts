// `dmrctl policy test|diff`: offline, on real files in a temporary directory.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/output.js';
import { EXIT_USAGE, runCli } from '../../src/cli/program.js';

function capture(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    stdout: () => out,
    stderr: () => err,
  };
}

const POLICY = {
  format: 'dmr-policy/v1',
  defaultDecision: 'deny',
  version: 3,
  timeZone: 'Europe/Tallinn',
  groups: { gov: { agents: ['tax-bot'], institutions: ['PPA'] } },
  rules: [
    { id: 'gov-to-gov', effect: 'allow', from: { groups: ['gov'] }, to: { groups: ['gov'] } },
    { id: 'no-weekend', effect: 'deny', to: { institutions: ['EMTA'] }, window: { days: ['sat', 'sun'] } },
  ],
};
const NEXT_YAML = `format: dmr-policy/v1
defaultDecision: deny
version: 4
rules:
  - id: tax-to-police
    effect: allow
    from: { agents: [tax-bot] }
    to: { agents: [police-bot] }
  - id: citizens-in
    effect: allow
    from: { agents: [citizen-bot] }
    types: [ChatMessage]
`;
const agent = (id: string, extra: object = {}) => ({
  id,
  name: id,
  authentication_certificate: 'x',
  created_at: '',
  updated_at: '',
  ...extra,
});
const REGISTRY = {
  response: [agent('tax-bot', { institution: 'EMTA', groups: ['tax'] }), agent('police-bot', { institution: 'PPA' }), agent('citizen-bot')],
};

let dir: string;
const path = (name: string) => join(dir, name);
const run = async (argv: string[]) => {
  const io = capture();
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmrctl-policy-'));
  await writeFile(path('p1.json'), JSON.stringify(POLICY));
  await writeFile(path('p2.yaml'), NEXT_YAML);
  await writeFile(path('registry.json'), JSON.stringify(REGISTRY));
  await writeFile(path('unknown.json'), JSON.stringify({ ...POLICY, priority: 1 }));
  await writeFile(
    path('latin1.json'),
    Buffer.from([...Buffer.from('{"format":"dmr-policy/v1","description":"'), 0xe4, ...Buffer.from('"}')]),
  );
  await writeFile(path('cycle.json'), JSON.stringify({ ...POLICY, groups: { a: { groups: ['b'] }, b: { groups: ['a'] } } }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dmrctl policy test', () => {
  const base = () => ['policy', 'test', '--policy', path('p1.json'), '--registry', path('registry.json')];

  it('names the deciding deny rule and the allow rule it overrides', async () => {
    const result = await run([...base(), '--from', 'police-bot', '--to', 'tax-bot', '--at', '2026-12-12T10:00:00Z']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/decision\s+deny \(DENY_RULE\)/);
    expect(result.out).toMatch(/rule\s+no-weekend/);
    expect(result.out).toMatch(/message\s+police-bot → tax-bot, type ChatMessage, sat 12:00/);
    expect(result.out).toMatch(/rules\.0\s+gov-to-gov\s+allow\s+yes \(deny wins\)/);
  });

  it('explains why each rule did not match a default decision, as JSON', async () => {
    const result = await run([
      ...base(),
      '--from',
      'citizen-bot',
      '--to',
      'tax-bot',
      '--at',
      '2026-12-07T09:00:00+02:00',
      '--output',
      'json',
    ]);
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.out);
    expect(answer.decision).toEqual({ allow: false, reason: 'DEFAULT_DENY', policyVersion: 3 });
    expect(answer.input.time).toMatchObject({ weekday: 'mon', minuteOfDay: 540 });
    expect(answer.rules.map((rule: { id: string; matched: boolean }) => [rule.id, rule.matched])).toEqual([
      ['gov-to-gov', false],
      ['no-weekend', false],
    ]);
    expect(answer.rules[0].mismatches[0]).toMatch(/sender citizen-bot .* is not in from \{groups \[gov\]\}/);
    expect(answer.rules[1].mismatches).toEqual(["mon is not one of the window's days"]);
  });

  it('takes an agent missing from the registry as one without institution or groups, saying so', async () => {
    const result = await run([...base(), '--from', 'ghost', '--to', 'tax-bot', '--at', '2026-12-07T09:00:00Z']);
    expect(result.code).toBe(0);
    expect(result.err).toMatch(/ghost is not in the registry/);
  });

  it.each([
    ['unknown.json', /DMR_POLICY_INVALID: .*unknown\.json: unknown member "priority"/],
    ['latin1.json', /DMR_POLICY_INVALID: .*not valid UTF-8/],
    ['cycle.json', /DMR_POLICY_INVALID: .*groups form a cycle: a → b → a/],
  ])('refuses %s with exit 2', async (file, message) => {
    const result = await run(['policy', 'test', '--policy', path(file), '--registry', path('registry.json'), '--from', 'a', '--to', 'b']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.err).toMatch(message);
  });

  it('refuses a registry without response, and a time without a zone', async () => {
    const noRegistry = await run([
      'policy',
      'test',
      '--policy',
      path('p1.json'),
      '--registry',
      path('p1.json'),
      '--from',
      'a',
      '--to',
      'b',
    ]);
    expect([noRegistry.code, noRegistry.err]).toEqual([
      EXIT_USAGE,
      expect.stringMatching(/DMR_CLI_DOCUMENT_INVALID: .*response must be an array/),
    ]);
    const noZone = await run([...base(), '--from', 'a', '--to', 'b', '--at', '2026-12-07T09:00:00']);
    expect(noZone.code).toBe(EXIT_USAGE);
  });

  it('fails with exit 1 when the policy file cannot be read', async () => {
    const result = await run([
      'policy',
      'test',
      '--policy',
      path('missing.json'),
      '--registry',
      path('registry.json'),
      '--from',
      'a',
      '--to',
      'b',
    ]);
    expect(result.code).toBe(1);
  });
});

describe('dmrctl policy diff', () => {
  it('lists the pairs that gain and lose access over the week', async () => {
    const result = await run([
      'policy',
      'diff',
      '--old',
      path('p1.json'),
      '--new',
      path('p2.yaml'),
      '--registry',
      path('registry.json'),
      '--output',
      'json',
    ]);
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.out);
    const changes = answer.entries.map(
      (entry: { from: string; to: string; type: string; change: string }) => `${entry.from}>${entry.to}:${entry.type}:${entry.change}`,
    );
    expect(changes.sort()).toEqual([
      'citizen-bot>police-bot:ChatMessage:gain',
      'citizen-bot>tax-bot:ChatMessage:gain',
      'police-bot>tax-bot:*:lose',
      'police-bot>tax-bot:ChatMessage:lose',
    ]);
    expect(answer.agents).toBe(3);
  });

  it('narrows to one type and time, as a table; none as the old policy allows everything', async () => {
    const result = await run([
      'policy',
      'diff',
      '--old',
      'none',
      '--new',
      path('p1.json'),
      '--registry',
      path('registry.json'),
      '--type',
      'Ping',
      '--at',
      '2026-12-07T09:00:00Z',
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^0 pair\(s\) gain access, 4 lose it \(3 agents, 12 decisions\)/);
    expect(result.out).toMatch(/citizen-bot\s+police-bot\s+Ping\s+lose\s+mon 11:00\s+NO_POLICY\s+DEFAULT_DENY/);
  });

  it('refuses a registry of more than 2000 agents with exit 2', async () => {
    const big = { response: Array.from({ length: 2001 }, (_, i) => agent(`a${i}`)) };
    await writeFile(path('big.json'), JSON.stringify(big));
    const result = await run(['policy', 'diff', '--old', 'none', '--new', path('p1.json'), '--registry', path('big.json')]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.err).toMatch(/2001 agents; policy diff compares at most 2000/);
  });
});
