import { describe, expect, it } from 'vitest';
import { type DiffValues, fieldLine, type ImportAnswer, parseImportAnswer, renderImport, valueText } from '../../src/cli/diff-text.js';
import {
  AGENT_COLUMNS,
  agentFields,
  CHANGE_COLUMNS,
  certificateColumns,
  certificateStatus,
  serverColumns,
  versionsBehind,
} from '../../src/cli/record-views.js';
import { ageText, cellText, printable, renderFields, renderTable } from '../../src/cli/table.js';

const NOW = new Date('2026-12-07T12:00:00.000Z');

describe('renderTable', () => {
  it('aligns columns under upper-case headers without trailing blanks', () => {
    const text = renderTable(
      [
        { header: 'id', value: (row: { id: string; n: number }) => row.id },
        { header: 'count', value: (row) => String(row.n) },
      ],
      [
        { id: 'a', n: 1 },
        { id: 'longer-id', n: 22 },
      ],
    );
    expect(text).toBe('ID         COUNT\na          1\nlonger-id  22\n');
  });

  it('says (none) for no rows and cuts long cells except in the last column', () => {
    expect(renderTable([{ header: 'x', value: () => '' }], [])).toBe('X\n(none)\n');
    const text = renderTable(
      [
        { header: 'a', value: () => 'abcdefghij', maxWidth: 5 },
        { header: 'b', value: () => 'abcdefghij', maxWidth: 5 },
      ],
      [{}],
    );
    expect(text.split('\n')[1]).toBe('abcd…  abcdefghij');
  });

  it('neutralises terminal escapes and newlines in cells', () => {
    const text = renderTable([{ header: 'name', value: () => 'evil\u001b[2J\u009bname\r\nline\u202e' }], [{}]);
    expect(text).toBe('NAME\nevil?[2J?name↵line?\n');
  });
});

describe('renderFields and cell text', () => {
  it('pads labels and indents multi-line values', () => {
    expect(
      renderFields([
        ['a', 'x'],
        ['long label', 'line 1\nline 2'],
      ]),
    ).toBe('a           x\nlong label  line 1\n            line 2\n');
  });

  it('shows absent, lists, maps and numbers', () => {
    expect([undefined, null, '', [], {}].map(cellText)).toEqual(['-', '-', '-', '-', '-']);
    expect(cellText(['a', 'b'])).toBe('a,b');
    expect(cellText({ team: 'blue', tier: 1 })).toBe('team=blue,tier=1');
    expect(cellText(false)).toBe('false');
  });

  it('says how long ago, or how long until', () => {
    expect(ageText('2026-12-07T11:59:15.000Z', NOW)).toBe('45s ago');
    expect(ageText('2026-12-07T11:00:00.000Z', NOW)).toBe('60m ago');
    expect(ageText('2026-12-04T12:00:00.000Z', NOW)).toBe('3d ago');
    expect(ageText('2026-12-07T15:00:00.000Z', NOW)).toBe('in 3h');
    expect(ageText('nope', NOW)).toBe('-');
    expect(printable('a\nb', true)).toBe('a\nb');
  });
});

describe('record views', () => {
  const agent = {
    id: 'tax-bot',
    name: 'Tax bot',
    institution: 'EMTA',
    enabled: false,
    groups: ['tax'],
    labels: { tier: '1' },
    authenticationCertificate: '-----BEGIN CERTIFICATE-----\nMII…\n-----END CERTIFICATE-----\n',
    revision: 3,
    updatedAt: '2026-12-07T10:00:00.000Z',
  };

  it('lists agents with enabled and key columns', () => {
    const text = renderTable(AGENT_COLUMNS, [agent, { id: 'new', name: 'New', enabled: true, authenticationCertificate: null }]);
    const [header, first, second] = text.split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+INSTITUTION\s+ENABLED\s+KEY\s+GROUPS\s+REVISION\s+UPDATED$/);
    expect(first).toMatch(/^tax-bot\s+Tax bot\s+EMTA\s+no\s+certificate\s+tax\s+3\s+2026-12-07T10:00:00.000Z$/);
    expect(second).toMatch(/^new\s+New\s+-\s+yes\s+-\s+-\s+-\s+-$/);
  });

  it('shows one agent field by field, the key summarised', () => {
    const text = agentFields(agent);
    expect(text).toContain('labels        tier=1\n');
    expect(text).toMatch(/key\s+certificate \(PEM, \d+ characters\)/);
    expect(agentFields({ id: 'x' })).toMatch(/key\s+none \(not enrolled\)/);
  });

  it('gives certificates a status', () => {
    const soon = { serial: 'aa', notAfter: '2026-12-20T00:00:00.000Z' };
    const expired = { serial: 'cc', notAfter: '2026-12-01T00:00:00.000Z' };
    const revoked = {
      serial: 'dd',
      notAfter: '2026-12-10T00:00:00.000Z',
      revokedAt: '2026-12-02T00:00:00.000Z',
      revocationReason: 'keyCompromise',
    };
    expect([soon, expired, revoked].map((c) => certificateStatus(c, NOW))).toEqual(['valid', 'expired', 'revoked (keyCompromise)']);
    const text = renderTable(certificateColumns(NOW), [expired]);
    expect(text).toMatch(/6d ago \(expired\)\s+expired/);
  });

  it('flags servers behind the current configVersion', () => {
    const servers = [
      { instanceId: 's1', name: 'a', configVersion: 9, lastSyncAt: '2026-12-07T11:59:50.000Z', softwareVersion: '0.1.0' },
      { instanceId: 's2', name: 'b', configVersion: 7, lastSyncAt: '2026-12-07T11:00:00.000Z' },
      { instanceId: 's3', name: 'c' },
    ];
    expect(servers.map((server) => versionsBehind(server, 9))).toEqual([0, 2, null]);
    const lines = renderTable(serverColumns(9, NOW), servers).split('\n');
    expect(lines[1]).toMatch(/^s1\s+a\s+9\s+current\s+2026-12-07T11:59:50.000Z \(10s ago\)\s+0.1.0$/);
    expect(lines[2]).toMatch(/^s2\s+b\s+7\s+BEHIND by 2\s+/);
    expect(lines[3]).toMatch(/^s3\s+c\s+-\s+unknown\s+- \(-\)\s+-$/);
  });

  it('shows who changed what, and the refusal code', () => {
    const text = renderTable(CHANGE_COLUMNS, [
      {
        seq: 5,
        at: '2026-12-07T11:00:00.000Z',
        actor: { subject: 'mari', role: 'auditor' },
        action: 'request.refused',
        subjectKind: 'route',
        subjectId: 'POST /v1/agents',
        outcome: 'refused',
        code: 'DMR_CONTROL_ROLE_FORBIDDEN',
        configVersion: 3,
      },
    ]);
    expect(text.split('\n')[1]).toMatch(
      /^5\s+2026-12-07T11:00:00.000Z\s+mari \(auditor\)\s+request.refused\s+route:POST \/v1\/agents\s+refused DMR_CONTROL_ROLE_FORBIDDEN\s+3$/,
    );
  });
});

describe('renderImport', () => {
  const answer: ImportAnswer = {
    dryRun: true,
    configVersion: 7,
    diff: {
      agents: { added: ['new-bot'], changed: [{ id: 'edit-bot', fields: ['name', 'labels'] }], removed: ['old-bot'], unchanged: 997 },
      policy: 'changed',
    },
  };
  const values: DiffValues = {
    currentAgents: new Map([['edit-bot', { id: 'edit-bot', name: 'Old', labels: { team: 'red' } }]]),
    desiredAgents: new Map([
      ['edit-bot', { id: 'edit-bot', name: 'New', labels: { team: 'red', tier: '1' } }],
      ['new-bot', { id: 'new-bot', name: 'New bot' }],
    ]),
    currentPolicy: { mode: 'allow' },
    desiredPolicy: { mode: 'deny' },
  };

  it('prints counts, + ~ - lines, each changed field from → to, the policy, then the dry-run outcome', () => {
    expect(renderImport(answer, { values, unlisted: ['kept-bot'] })).toBe(
      [
        'agents: 1 added, 1 changed, 1 removed, 997 unchanged',
        '  + new-bot  (New bot)',
        '  ~ edit-bot: name, labels',
        '      name: "Old" → "New"',
        '      labels.tier: (none) → "1"',
        '  - old-bot',
        '  (1 agent(s) of the registry are not in the document and stay: --prune removes them)',
        'policy: changed (stored as a new version)',
        '      document.mode: "allow" → "deny"',
        'dry run: nothing was applied',
        '',
      ].join('\n'),
    );
  });

  it('names only the fields when the values are not known (a real import)', () => {
    const text = renderImport({ ...answer, dryRun: false, configVersion: 8 });
    expect(text).toContain('  ~ edit-bot: name, labels\n  - old-bot\n');
    expect(text).toMatch(/applied at configVersion 8\n$/);
  });

  it('says when nothing changes', () => {
    const empty: ImportAnswer = {
      dryRun: true,
      configVersion: 3,
      diff: { agents: { added: [], changed: [], removed: [], unchanged: 2 }, policy: 'absent' },
    };
    expect(renderImport(empty)).toBe(
      'agents: 0 added, 0 changed, 0 removed, 2 unchanged\npolicy: not in the document (stays as it is)\ndry run: no changes; nothing was applied\n',
    );
    expect(renderImport({ ...empty, dryRun: false, diff: { ...empty.diff, policy: 'unchanged' } })).toMatch(
      /policy: unchanged\nno changes; configVersion stays 3\n$/,
    );
  });

  it('checks the API answer it renders', () => {
    expect(parseImportAnswer(answer)).toBe(answer);
    for (const bad of [null, {}, { ...answer, diff: { ...answer.diff, policy: 'maybe' } }, { ...answer, configVersion: '7' }]) {
      expect(() => parseImportAnswer(bad)).toThrow(/POST \/v1\/import answered something/);
    }
  });

  it('summarises PEM text and long values, and neutralises escapes', () => {
    expect(valueText('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')).toBe('public key (PEM, 57 characters)');
    expect(valueText({ rules: 'x'.repeat(100) })).toMatch(/^\{"rules":"x+… \(object, 112 characters\)$/);
    expect(valueText(null)).toBe('null');
    expect(fieldLine({ path: 'name\u001b[31m', before: 'a' })).toBe('      name?[31m: "a" → (none)');
    expect(fieldLine({ path: '', before: 1, after: 2 })).toBe('      (whole value): 1 → 2');
  });
});
