// dmrctl against a real dmr-control (in-process, SQLite, HTTPS with mutual TLS on 127.0.0.1): the admin certificate is
// made with `dmrctl cert admin`, every command goes through the real client and TLS. One control plane for the file;
// each test uses its own agent ids.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env } from '@dmr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { CliIo } from '../../src/cli/output.js';
import { EXIT_CONFLICT, EXIT_FAILED, runCli } from '../../src/cli/program.js';
import { type ClientCert, type ControlFixture, call, startControl } from './helpers/control-fixture.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let fixture: ControlFixture;
let caFile: string;
const identities: Record<string, { certFile: string; keyFile: string }> = {};

async function writeIdentity(name: string, client: ClientCert): Promise<void> {
  const certFile = join(fixture.dir, `${name}.cert.pem`);
  const keyFile = join(fixture.dir, `${name}.key.pem`);
  await writeFile(certFile, client.cert);
  await writeFile(keyFile, client.key, { mode: 0o600 });
  identities[name] = { certFile, keyFile };
}

function envOf(who: string): Env {
  const identity = identities[who];
  if (identity === undefined) throw new Error(`no identity ${who}`);
  return {
    DMR_CONTROL_URL: `https://127.0.0.1:${fixture.port}`,
    DMR_CONTROL_CERT_FILE: identity.certFile,
    DMR_CONTROL_KEY_FILE: identity.keyFile,
    DMR_CONTROL_CA_FILE: caFile,
  };
}

/** Runs dmrctl in this process (real client, real TLS) as `who` (`nobody`: no DMR_CONTROL_* variables at all). */
async function dmrctl(args: readonly string[], who = 'mari'): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
  };
  const code = await runCli(args, io, { env: who === 'nobody' ? {} : envOf(who) });
  return { code, stdout, stderr };
}

function jsonOf(run: Run): Record<string, unknown> {
  expect(run.stderr.includes('DMR_'), run.stderr).toBe(false);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

async function configVersion(): Promise<number> {
  return (jsonOf(await dmrctl(['servers', 'list', '--output', 'json'])) as { configVersion: number }).configVersion;
}

beforeAll(async () => {
  fixture = await startControl();
  caFile = join(fixture.pki.caDir, 'ca.cert.pem');
  // the first administrator, made as an operator would: dmrctl cert admin from the CA directory
  const issued = await dmrctl(
    ['cert', 'admin', '--dir', fixture.pki.caDir, '--out', join(fixture.dir, 'people'), '--role', 'admin', '--name', 'mari'],
    'nobody',
  );
  expect(issued.code, issued.stderr).toBe(0);
  identities.mari = {
    certFile: join(fixture.dir, 'people/admin-admin-mari.cert.pem'),
    keyFile: join(fixture.dir, 'people/admin-admin-mari.key.pem'),
  };
  for (const name of ['operator', 'auditor', 'foreign', 'server'] as const) await writeIdentity(name, fixture.pki.clients[name]);
});

afterAll(async () => {
  await fixture?.stop();
});

describe('dmrctl agents', () => {
  it('creates, lists and gets agents, as a table and as JSON', async () => {
    const created = await dmrctl([
      'agents',
      'create',
      '--id',
      'list-a',
      '--name',
      'List A',
      '--institution',
      'EMTA',
      '--label',
      'tier=1',
      '--group',
      'tax',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created agent list-a\n/);
    expect(created.stdout).toMatch(/revision\s+1\n/);
    const asOperator = await dmrctl(
      ['agents', 'create', '--id', 'list-b', '--name', 'List B', '--disabled', '--output', 'json'],
      'operator',
    );
    expect(jsonOf(asOperator)).toMatchObject({ id: 'list-b', enabled: false, revision: 1 });

    const table = await dmrctl(['agents', 'list', '--name-prefix', 'List ']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+INSTITUTION\s+ENABLED\s+KEY\s+GROUPS\s+REVISION\s+UPDATED$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/).slice(0, 4))).toEqual([
      ['list-a', 'List A', 'EMTA', 'yes'],
      ['list-b', 'List B', '-', 'no'],
    ]);
    const disabled = jsonOf(await dmrctl(['agents', 'list', '--disabled', '--name-prefix', 'List ', '--output', 'json']));
    expect((disabled.items as { id: string }[]).map((agent) => agent.id)).toEqual(['list-b']);
    const one = jsonOf(await dmrctl(['agents', 'get', 'list-a', '--output', 'json'], 'auditor'));
    expect(one).toMatchObject({ id: 'list-a', labels: { tier: '1' }, groups: ['tax'], authenticationCertificate: null });
  });

  it('updates through the ETag; a stale --revision is refused with the conflict code, exit 4, nothing written', async () => {
    expect((await dmrctl(['agents', 'create', '--id', 'etag-a', '--name', 'ETag A', '--label', 'old=1', '--group', 'x'])).code).toBe(0);
    const updated = await dmrctl([
      'agents',
      'update',
      'etag-a',
      '--name',
      'ETag A2',
      '--set-label',
      'tier=2',
      '--unset-label',
      'old',
      '--add-group',
      'y',
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toBe('updated agent etag-a (name, labels, groups), now revision 2\n');
    const before = await configVersion();

    const stale = await dmrctl(['agents', 'update', 'etag-a', '--contact', 'someone', '--revision', '1']);
    expect(stale.code).toBe(EXIT_CONFLICT);
    expect(stale.stderr).toMatch(/^dmrctl: DMR_CONTROL_REVISION_MISMATCH: .*\(HTTP 412\)\n/);
    expect(stale.stderr).toContain('nothing was written: read it again and retry');
    const after = jsonOf(await dmrctl(['agents', 'get', 'etag-a', '--output', 'json']));
    expect(after).toMatchObject({ name: 'ETag A2', contact: '', labels: { tier: '2' }, groups: ['x', 'y'], revision: 2 });
    expect(await configVersion()).toBe(before);

    const same = await dmrctl(['agents', 'update', 'etag-a', '--name', 'ETag A2']);
    expect(same.stdout).toBe('agent etag-a already is as asked: nothing written\n');
    const current = await dmrctl(['agents', 'update', 'etag-a', '--contact', 'ops@emta.ee', '--revision', '2', '--output', 'json']);
    expect(jsonOf(current)).toMatchObject({ contact: 'ops@emta.ee', revision: 3 });
  });

  it('disables, enables and deletes with If-Match; a second disable writes nothing', async () => {
    expect((await dmrctl(['agents', 'create', '--id', 'switch-a', '--name', 'Switch A'])).code).toBe(0);
    expect((await dmrctl(['agents', 'disable', 'switch-a'])).stdout).toBe('updated agent switch-a (enabled), now revision 2\n');
    expect((await dmrctl(['agents', 'disable', 'switch-a'])).stdout).toMatch(/already is as asked/);
    expect(jsonOf(await dmrctl(['agents', 'enable', 'switch-a', '--output', 'json']))).toMatchObject({ enabled: true, revision: 3 });
    const stale = await dmrctl(['agents', 'delete', 'switch-a', '--revision', '2']);
    expect(stale.code).toBe(EXIT_CONFLICT);
    expect((await dmrctl(['agents', 'delete', 'switch-a'])).stdout).toBe('deleted agent switch-a\n');
    const gone = await dmrctl(['agents', 'get', 'switch-a']);
    expect(gone.code).toBe(EXIT_FAILED);
    expect(gone.stderr).toMatch(/^dmrctl: DMR_CONTROL_NOT_FOUND: .*\(HTTP 404\)\n {2}field: id\n$/);
  });
});

describe('dmrctl export and import', () => {
  it('a dry run prints the diff field by field and changes nothing; the real import applies it in one call', async () => {
    expect((await dmrctl(['agents', 'create', '--id', 'imp-edit', '--name', 'Edit me', '--label', 'tier=1'])).code).toBe(0);
    expect((await dmrctl(['agents', 'create', '--id', 'imp-keep', '--name', 'Keep me'])).code).toBe(0);
    const exported = parseYaml((await dmrctl(['export'])).stdout) as { agents: Record<string, unknown>[] };
    const document = {
      format: 'dmr-control/registry-v1',
      agents: [
        ...exported.agents.filter((agent) => agent.id !== 'imp-edit'),
        { id: 'imp-edit', name: 'Edited', labels: { tier: '2', zone: 'north' }, enabled: false },
        { id: 'imp-new', name: 'New one', institution: 'PPA' },
      ],
      policy: {
        document: { format: 'dmr-policy/v1', defaultDecision: 'allow', rules: [{ id: 'all', effect: 'allow' }] },
        comment: 'first',
      },
    };
    const file = join(fixture.dir, 'import.yaml');
    await writeFile(file, toYaml(document));
    const before = await configVersion();
    const exportBefore = (await dmrctl(['export', '--format', 'json'])).stdout;

    const dry = await dmrctl(['import', file, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^agents: 1 added, 1 changed, 0 removed, \d+ unchanged\n/);
    expect(dry.stdout).toContain('  + imp-new  (New one)\n');
    expect(dry.stdout).toContain('  ~ imp-edit: name, labels, enabled\n');
    expect(dry.stdout).toContain('      name: "Edit me" → "Edited"\n');
    expect(dry.stdout).toContain('      labels.tier: "1" → "2"\n');
    expect(dry.stdout).toContain('      labels.zone: (none) → "north"\n');
    expect(dry.stdout).toContain('      enabled: true → false\n');
    expect(dry.stdout).toContain('policy: added (the first version)\n');
    expect(dry.stdout).toMatch(/dry run: nothing was applied\n$/);
    expect(dry.stderr).toMatch(/read .*import.yaml: \d+ agent\(s\), a policy/);
    expect(await configVersion()).toBe(before);
    expect(stripExportedAt((await dmrctl(['export', '--format', 'json'])).stdout)).toBe(stripExportedAt(exportBefore));

    const applied = await dmrctl(['import', file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('  ~ imp-edit: name, labels, enabled\n');
    expect(applied.stdout).toMatch(new RegExp(`applied at configVersion ${before + 1}\\n$`));
    expect(await configVersion()).toBe(before + 1);
    expect(jsonOf(await dmrctl(['agents', 'get', 'imp-edit', '--output', 'json']))).toMatchObject({
      name: 'Edited',
      labels: { tier: '2', zone: 'north' },
      enabled: false,
    });
    expect(jsonOf(await dmrctl(['agents', 'get', 'imp-new', '--output', 'json']))).toMatchObject({ institution: 'PPA' });
    const policies = jsonOf(await dmrctl(['policies', 'list', '--output', 'json'], 'auditor'));
    expect(policies.items).toEqual([
      expect.objectContaining({
        document: { format: 'dmr-policy/v1', defaultDecision: 'allow', rules: [{ id: 'all', effect: 'allow' }] },
        comment: 'first',
      }),
    ]);
  });

  it('export then import is a no-op diff (YAML and JSON); --prune shows and removes what the document omits', async () => {
    expect((await dmrctl(['agents', 'create', '--id', 'trip-a', '--name', 'Trip A', '--label', 'dmr.ee/tier=1'])).code).toBe(0);
    const yamlFile = join(fixture.dir, 'round-trip.yaml');
    const jsonFile = join(fixture.dir, 'round-trip.json');
    const written = await dmrctl(['export', '-o', yamlFile]);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stderr).toMatch(/exported \d+ agent\(s\) and (no policy|the policy) at configVersion \d+ to .*round-trip.yaml/);
    expect((await dmrctl(['export', '-o', yamlFile])).stderr).toMatch(/DMR_CA_FILE_EXISTS: .*--force/);
    expect((await dmrctl(['export', '-o', jsonFile])).code).toBe(0);
    expect(JSON.parse(await readFile(jsonFile, 'utf8'))).toMatchObject({ format: 'dmr-control/registry-v1' });
    for (const file of [yamlFile, jsonFile]) {
      const dry = await dmrctl(['import', file, '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(
        /^agents: 0 added, 0 changed, 0 removed, \d+ unchanged\npolicy: (unchanged|not in the document.*)\ndry run: no changes; nothing was applied\n$/,
      );
      const json = jsonOf(await dmrctl(['import', file, '--dry-run', '--output', 'json']));
      expect(json).toMatchObject({ dryRun: true, diff: { agents: { added: [], changed: [], removed: [] } } });
    }
    const before = await configVersion();
    const applied = await dmrctl(['import', yamlFile]);
    expect(applied.stdout).toMatch(/no changes; configVersion stays \d+\n$/);
    expect(await configVersion()).toBe(before);

    const document = parseYaml(await readFile(yamlFile, 'utf8')) as { agents: { id: string }[] };
    const smaller = join(fixture.dir, 'smaller.yaml');
    await writeFile(smaller, toYaml({ ...document, agents: document.agents.filter((agent) => agent.id !== 'trip-a') }));
    expect((await dmrctl(['import', smaller, '--dry-run'])).stdout).toContain(
      '  (1 agent(s) of the registry are not in the document and stay: --prune removes them)\n',
    );
    const pruneDry = await dmrctl(['import', smaller, '--dry-run', '--prune']);
    expect(pruneDry.stdout).toMatch(/^agents: 0 added, 0 changed, 1 removed, /);
    expect(pruneDry.stdout).toContain('  - trip-a\n');
    expect((await dmrctl(['import', smaller, '--prune'])).code).toBe(0);
    expect((await dmrctl(['agents', 'get', 'trip-a'])).stderr).toMatch(/DMR_CONTROL_NOT_FOUND/);
  });

  it('an invalid entry is refused by the API naming the field, exit 2, nothing applied', async () => {
    const file = join(fixture.dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        format: 'dmr-control/registry-v1',
        agents: [
          { id: 'bad-a', name: 'A' },
          { id: 'bad a', name: 'B' },
        ],
      }),
    );
    const before = await configVersion();
    const run = await dmrctl(['import', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\ndmrctl: DMR_CONTROL_INVALID_INPUT: .*\(HTTP 400\)\n {2}field: agents\.1\.id\n$/);
    expect(await configVersion()).toBe(before);
    expect((await dmrctl(['agents', 'get', 'bad-a'])).code).toBe(EXIT_FAILED);
  });
});

describe('dmrctl with the wrong certificate or CA', () => {
  it("prints the API's 403 code for a certificate without the role, exit 1 (the real bin)", async () => {
    const run = await new Promise<Run>((resolve) => {
      const env = { ...process.env, ...envOf('auditor') };
      execFile(process.execPath, [MAIN, 'agents', 'create', '--id', 'nope', '--name', 'Nope'], { env }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      });
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^dmrctl: DMR_CONTROL_ROLE_FORBIDDEN: .*\(HTTP 403\)\n$/);
    expect((await dmrctl(['agents', 'get', 'nope'])).stderr).toMatch(/DMR_CONTROL_NOT_FOUND/);
    const refusals = jsonOf(await dmrctl(['changes', 'list', '--outcome', 'refused', '--all', '--output', 'json'], 'auditor'));
    expect(refusals.items).toContainEqual(expect.objectContaining({ code: 'DMR_CONTROL_ROLE_FORBIDDEN', outcome: 'refused' }));
  });

  it('prints 401 for a certificate from a CA dmr-control does not trust', async () => {
    const run = await dmrctl(['agents', 'list'], 'foreign');
    expect(run.code).toBe(EXIT_FAILED);
    expect(run.stderr).toMatch(/^dmrctl: DMR_CONTROL_CERTIFICATE_REQUIRED: .*\(HTTP 401\)\n$/);
  });

  it("names --ca when dmr-control's certificate is not trusted; never connects without verifying", async () => {
    let stderr = '';
    const io: CliIo = {
      out: () => undefined,
      err: (text) => {
        stderr += text;
      },
    };
    const code = await runCli(['agents', 'list'], io, { env: { ...envOf('mari'), DMR_CONTROL_CA_FILE: identities.foreign?.certFile } });
    expect(code).toBe(EXIT_FAILED);
    expect(stderr).toMatch(
      /^dmrctl: DMR_CLI_API_UNREACHABLE: dmr-control's certificate at https:\/\/127.0.0.1:\d+ is not trusted \(.*\); pass the CA that signed it with --ca or DMR_CONTROL_CA_FILE\n$/,
    );
  });
});

describe('dmrctl servers, policies and changes', () => {
  it('lists servers with the configVersion each runs and flags the ones behind', async () => {
    const current = await configVersion();
    const report = { configVersion: current, crlNumbers: [], version: '0.1.0', startedAt: new Date().toISOString() };
    const put = await call(fixture, { method: 'PUT', path: '/v1/servers/dmr-1', client: fixture.pki.clients.server, body: report });
    expect(put.status, put.text).toBe(200);
    const listed = await dmrctl(['servers', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^configVersion ${current}; 1 server\\(s\\), all current\\n`));
    expect((await dmrctl(['agents', 'create', '--id', 'bump-a', '--name', 'Bump'])).code).toBe(0);
    const behind = await dmrctl(['servers', 'list']);
    expect(behind.stdout).toMatch(new RegExp(`^configVersion ${current + 1}; 1 server\\(s\\), 1 BEHIND\\n`));
    expect(behind.stdout).toMatch(new RegExp(`\\ndmr-1\\s+dmr-1.example\\s+${current}\\s+BEHIND by 1\\s+`));
    const json = jsonOf(await dmrctl(['servers', 'list', '--output', 'json'], 'auditor'));
    expect(json).toMatchObject({ configVersion: current + 1, items: [{ instanceId: 'dmr-1', configVersion: current, behindBy: 1 }] });
  });

  it('pushes a policy from YAML, lists and shows it; an operator may not push', async () => {
    const file = join(fixture.dir, 'policy.yaml');
    await writeFile(file, 'rules:\n  - from: tax\n    to: police\n    allow: true\n');
    const pushed = await dmrctl(['policies', 'push', file, '--comment', 'tax may ask police', '--output', 'json']);
    const version = (jsonOf(pushed) as { version: number }).version;
    expect(pushed.stdout).toContain('"comment": "tax may ask police"');
    const shown = await dmrctl(['policies', 'get', String(version)], 'operator');
    expect(shown.stdout).toMatch(new RegExp(`^version\\s+${version}\\n`));
    expect(shown.stdout).toContain('---\nrules:\n  - from: tax\n    to: police\n    allow: true\n');
    const refused = await dmrctl(['policies', 'push', file], 'operator');
    expect(refused.code).toBe(EXIT_FAILED);
    expect(refused.stderr).toMatch(/DMR_CONTROL_ROLE_FORBIDDEN/);
  });

  it('lists the change log with filters for an auditor', async () => {
    const run = await dmrctl(['changes', 'list', '--subject-id', 'etag-a', '--action', 'agent.update'], 'auditor');
    expect(run.code, run.stderr).toBe(0);
    const rows = run.stdout.trimEnd().split('\n').slice(1);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(row).toMatch(/\(admin\)\s+agent\.update\s+agent:etag-a\s+applied\s+\d+$/);
    expect((await dmrctl(['changes', 'list'], 'operator')).stderr).toMatch(/DMR_CONTROL_ROLE_FORBIDDEN/);
  });
});

function stripExportedAt(text: string): string {
  return text.replace(/"exportedAt": "[^"]*"/, '');
}
