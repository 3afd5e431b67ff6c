import { describe, expect, it } from 'vitest';
import { agentCreateBody, agentPatchBody, isEmptyUpdate } from '../../src/cli/agent-edit.js';
import { agentQuery } from '../../src/cli/agents-actions.js';
import { certificateQuery, revocationText } from '../../src/cli/api-actions.js';
import { ControlApiError } from '../../src/cli/api-client/index.js';
import { parseAgentId, parseDuration, parseLabel, parseSince, parseWhole } from '../../src/cli/api-options.js';
import { type CliIo, UsageError } from '../../src/cli/output.js';
import { EXIT_CONFLICT, EXIT_FAILED, EXIT_USAGE, reportApiError, runCli } from '../../src/cli/program.js';
import { dryRunDetails } from '../../src/cli/transfer-actions.js';

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

describe('API option parsers', () => {
  it('reads durations with units into milliseconds', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('45s')).toBe(45_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    for (const bad of ['30', 'd', '1.5d', '-1d', '30 days']) expect(() => parseDuration(bad)).toThrow(/45s, 90m, 12h, 30d or 2w/);
  });

  it('reads key=value labels, accumulating; the value may hold =', () => {
    expect(parseLabel('team=blue')).toEqual([['team', 'blue']]);
    expect(parseLabel('q=a=b', [['x', '1']])).toEqual([
      ['x', '1'],
      ['q', 'a=b'],
    ]);
    expect(parseLabel('empty=')).toEqual([['empty', '']]);
    for (const bad of ['novalue', '=v']) expect(() => parseLabel(bad)).toThrow(/key=value/);
  });

  it('reads --since as an ISO time or a span back from now', () => {
    const now = new Date('2026-12-07T12:00:00.000Z');
    expect(parseSince('2d', undefined, now)).toBe('2026-12-05T12:00:00.000Z');
    expect(parseSince('2026-12-01T10:00:00+02:00', undefined, now)).toBe('2026-12-01T08:00:00.000Z');
    for (const bad of ['yesterday', '2026-12-01', '2026-13-01T00:00:00Z']) expect(() => parseSince(bad)).toThrow(/ISO 8601/);
  });

  it('turns list flags into the API query, absent flags absent', () => {
    expect(agentQuery({ output: 'table' })).toEqual({
      enabled: undefined,
      group: undefined,
      label: undefined,
      namePrefix: undefined,
      hasKey: undefined,
    });
    expect(agentQuery({ output: 'table', disabled: true, notEnrolled: true, group: 'g', label: 'a=b', namePrefix: 'T' })).toEqual({
      enabled: false,
      group: 'g',
      label: 'a=b',
      namePrefix: 'T',
      hasKey: false,
    });
    expect(agentQuery({ output: 'json', enabled: true, enrolled: true })).toMatchObject({ enabled: true, hasKey: true });
  });

  it('turns certs list flags into the API query: --expiring-within is expiringBefore of unrevoked ones', () => {
    const now = new Date('2026-12-07T12:00:00.000Z');
    expect(certificateQuery({ output: 'table', expiringWithin: 30 * 86_400_000, subject: 'tax-bot', kind: 'agent' }, now)).toEqual({
      subjectId: 'tax-bot',
      subjectKind: 'agent',
      revoked: false,
      expiringBefore: '2027-01-06T12:00:00.000Z',
    });
    expect(certificateQuery({ output: 'table', revoked: true }, now)).toMatchObject({ revoked: true, expiringBefore: undefined });
    expect(certificateQuery({ output: 'table' }, now)).toEqual({
      subjectId: undefined,
      subjectKind: undefined,
      revoked: undefined,
      expiringBefore: undefined,
    });
  });

  it('checks agent ids and whole numbers', () => {
    expect(parseAgentId('tax-bot_2')).toBe('tax-bot_2');
    expect(() => parseAgentId('../etc')).toThrow(/not an agent id/);
    expect(parseWhole(1)('12')).toBe(12);
    for (const bad of ['0', '1e3', 'x', '-2']) expect(() => parseWhole(1)(bad)).toThrow(/whole number ≥ 1/);
  });
});

describe('agent bodies', () => {
  it('create sends only what was given, deduplicated', () => {
    expect(agentCreateBody({ name: 'Tax' })).toEqual({ name: 'Tax' });
    expect(
      agentCreateBody(
        { id: 'tax', name: 'Tax', label: [['a', '1']], group: ['g', 'g'], capability: ['c'], disabled: true, institution: 'EMTA' },
        'PEM',
      ),
    ).toEqual({
      id: 'tax',
      name: 'Tax',
      institution: 'EMTA',
      labels: { a: '1' },
      groups: ['g'],
      capabilities: ['c'],
      authenticationCertificate: 'PEM',
      enabled: false,
    });
  });

  const current = {
    id: 'tax',
    name: 'Tax',
    institution: 'EMTA',
    labels: { team: 'red', tier: '1' },
    groups: ['a', 'b'],
    capabilities: ['x'],
    authenticationCertificate: 'PEM-1',
  };

  it('update edits labels and groups on what was read, and sends only the fields that change', () => {
    expect(
      agentPatchBody(current, {
        name: 'Tax bot',
        institution: 'EMTA',
        setLabel: [['team', 'blue']],
        unsetLabel: ['tier'],
        addGroup: ['c', 'a'],
        removeGroup: ['b'],
      }),
    ).toEqual({ name: 'Tax bot', labels: { team: 'blue' }, groups: ['a', 'c'] });
    expect(agentPatchBody(current, { capability: ['y', 'y'] }, 'PEM-2')).toEqual({
      capabilities: ['y'],
      authenticationCertificate: 'PEM-2',
    });
  });

  it('update sends nothing when the agent already is as asked', () => {
    expect(agentPatchBody(current, { name: 'Tax', setLabel: [['tier', '1']], addGroup: ['a'], capability: ['x'] }, 'PEM-1')).toEqual({});
  });

  it('update refuses to remove what is not there', () => {
    expect(() => agentPatchBody(current, { unsetLabel: ['nope'] })).toThrow(UsageError);
    expect(() => agentPatchBody(current, { removeGroup: ['nope'] })).toThrow(/--remove-group nope: the agent is not in that group/);
  });

  it('knows an update with nothing to change', () => {
    expect(isEmptyUpdate({}, false)).toBe(true);
    expect(isEmptyUpdate({}, true)).toBe(false);
    expect(isEmptyUpdate({ unsetLabel: ['x'] }, false)).toBe(false);
  });
});

describe('runCli with the API commands', () => {
  it('prints help for every API command, exit 0', async () => {
    const commands = [
      ['agents'],
      ...['list', 'get', 'create', 'update', 'disable', 'enable', 'delete', 'token'].map((name) => ['agents', name]),
      ['certs', 'list'],
      ['certs', 'revoke'],
      ['servers', 'list'],
      ['servers', 'token'],
      ['servers', 'relay-token'],
      ['changes', 'list'],
      ['policies', 'list'],
      ['policies', 'get'],
      ['policies', 'push'],
      ['export'],
      ['import'],
    ];
    for (const argv of commands) {
      const io = capture();
      expect(await runCli([...argv, '--help'], io)).toBe(0);
      expect(io.stdout()).toMatch(/^Usage: dmrctl /);
    }
    const io = capture();
    await runCli(['agents', 'list', '--help'], io);
    for (const flag of ['--url', '--cert', '--key', '--ca', '--output', 'DMR_CONTROL_URL', 'DMR_CONTROL_CERT_FILE']) {
      expect(io.stdout()).toContain(flag);
    }
  });

  it('refuses a bad --output, a bad id and a missing --reason before connecting, exit 2', async () => {
    for (const argv of [
      ['agents', 'list', '--output', 'xml'],
      ['agents', 'get', 'not an id'],
      ['certs', 'revoke', 'aa'],
      ['certs', 'revoke', 'aa', '--reason', 'certificateHold'],
      ['certs', 'list', '--expiring-within', 'soon'],
      ['servers', 'token', "x'; DROP TABLE agents;--", '--dns-name', 'a.example'],
      ['servers', 'token', 'dmr-1.example', '--output', 'yaml'],
      ['servers', 'relay-token', '--user', 'no spaces'],
    ]) {
      const io = capture();
      expect(await runCli(argv, io)).toBe(EXIT_USAGE);
      expect(io.stderr()).toMatch(/error: /);
    }
  });

  it('names the missing variable when no URL, certificate or key is configured, exit 2', async () => {
    const io = capture();
    expect(await runCli(['agents', 'list'], io, { env: {} })).toBe(EXIT_USAGE);
    expect(io.stderr()).toBe(
      "dmrctl: DMR_CONFIG_INVALID: --url or DMR_CONTROL_URL is required: dmr-control's admin API, e.g. https://control.dmr.internal:8094\n",
    );
    const noKey = capture();
    const env = { DMR_CONTROL_URL: 'https://127.0.0.1:1', DMR_CONTROL_CERT_FILE: '/x' };
    expect(await runCli(['agents', 'list'], noKey, { env })).toBe(EXIT_USAGE);
    expect(noKey.stderr()).toMatch(/--key or DMR_CONTROL_KEY_FILE is required/);
  });

  it('names an unreadable certificate file, exit 2', async () => {
    const io = capture();
    const env = {
      DMR_CONTROL_URL: 'https://127.0.0.1:1',
      DMR_CONTROL_CERT_FILE: '/nonexistent/c.pem',
      DMR_CONTROL_KEY_FILE: '/nonexistent/k.pem',
    };
    expect(await runCli(['servers', 'list'], io, { env })).toBe(EXIT_USAGE);
    expect(io.stderr()).toMatch(/^dmrctl: DMR_CONFIG_INVALID: --cert \/ DMR_CONTROL_CERT_FILE: cannot read \/nonexistent\/c.pem/);
  });

  it('says update has nothing to change, exit 2', async () => {
    const io = capture();
    expect(await runCli(['agents', 'update', 'tax-bot'], io, { env: {} })).toBe(EXIT_USAGE);
    expect(io.stderr()).toBe('dmrctl: nothing to change: name at least one field (see --help)\n(add --help for usage)\n');
  });

  it('refuses an import file that is not YAML, or not a registry document, exit 2 and nothing sent', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'dmrctl-import-'));
    try {
      const file = join(dir, 'bad.yaml');
      // no URL configured: a refusal before connecting proves nothing was sent
      await writeFile(file, 'agents: [\n');
      const broken = capture();
      expect(await runCli(['import', file], broken, { env: {} })).toBe(EXIT_USAGE);
      expect(broken.stderr()).toMatch(/^dmrctl: DMR_CLI_DOCUMENT_INVALID: .*bad.yaml is not valid YAML: /);
      await writeFile(file, 'format: dmr-control/registry-v1\nagents: {}\n');
      const wrong = capture();
      expect(await runCli(['import', file, '--dry-run'], wrong, { env: {} })).toBe(EXIT_USAGE);
      expect(wrong.stderr()).toBe(
        `dmrctl: DMR_CLI_DOCUMENT_INVALID: ${file} is not a registry document (an object with an "agents" list); nothing was sent\n`,
      );
      const json = join(dir, 'doc.json');
      await writeFile(json, '{"agents": [1,]}');
      const badJson = capture();
      expect(await runCli(['import', json], badJson, { env: {} })).toBe(EXIT_USAGE);
      expect(badJson.stderr()).toMatch(/doc.json is not valid JSON: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('revocationText', () => {
  it('lists every serial revoked and the agents cut', () => {
    const answer = { revoked: [{ serial: 'aa01' }, { serial: 'bb02' }], agentsCut: ['tax-bot'], configVersion: 9 };
    expect(revocationText('aa01', 'keyCompromise', answer)).toBe(
      'revoked 2 certificate(s), reason keyCompromise: aa01, bb02\n' +
        'agents cut from the registry until they enroll again: tax-bot\n' +
        'dmr-control signed a new CRL and announces it: servers drop the connections of revoked certificates\n',
    );
    expect(revocationText('cc03', 'superseded', {})).toMatch(/^revoked 1 certificate\(s\), reason superseded: cc03\ndmr-control/);
  });
});

describe('dryRunDetails', () => {
  it('fills the defaults of agents the document leaves short, and finds the agents it omits', () => {
    const current = {
      agents: [
        { id: 'a', name: 'A' },
        { id: 'b', name: 'B' },
        { id: 'c', name: 'C' },
      ],
      policy: { document: { v: 1 } },
    };
    const desired = { agents: [{ id: 'a', name: 'A2' }], policy: null };
    const answer = {
      dryRun: true,
      configVersion: 1,
      diff: { agents: { added: [], changed: [{ id: 'a', fields: ['name'] }], removed: ['c'], unchanged: 0 }, policy: 'absent' as const },
    };
    const { values, unlisted } = dryRunDetails(current, desired, answer);
    expect(values.desiredAgents.get('a')).toEqual({
      id: 'a',
      name: 'A2',
      institution: '',
      contact: '',
      labels: {},
      groups: [],
      authenticationCertificate: null,
      capabilities: [],
      enabled: true,
    });
    expect(values.currentPolicy).toEqual({ v: 1 });
    expect(values.desiredPolicy).toBeUndefined();
    expect(unlisted).toEqual(['b']);
  });
});

describe('reportApiError', () => {
  it('prints the code, message, status and field; 401/403 exit 1', () => {
    const io = capture();
    expect(reportApiError(io, new ControlApiError(403, 'DMR_CONTROL_ROLE_FORBIDDEN', 'the auditor role may not write agents'))).toBe(
      EXIT_FAILED,
    );
    expect(io.stderr()).toBe('dmrctl: DMR_CONTROL_ROLE_FORBIDDEN: the auditor role may not write agents (HTTP 403)\n');
  });

  it('a conflict says nothing was written, exit 4', () => {
    const io = capture();
    expect(reportApiError(io, new ControlApiError(412, 'DMR_CONTROL_REVISION_MISMATCH', 'agent x is at revision 3'))).toBe(EXIT_CONFLICT);
    expect(io.stderr()).toMatch(/\(HTTP 412\)\ndmrctl: it changed since it was read, so nothing was written: read it again and retry\n$/);
  });

  it("the API's refusal of the input itself exits 2, with the field", () => {
    const io = capture();
    expect(reportApiError(io, new ControlApiError(400, 'DMR_VALIDATION_FAILED', 'too short', 'name'))).toBe(EXIT_USAGE);
    expect(io.stderr()).toBe('dmrctl: DMR_VALIDATION_FAILED: too short (HTTP 400)\n  field: name\n');
  });
});
