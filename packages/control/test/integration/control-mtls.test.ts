/**
 * The mTLS role guard over real HTTPS (listen on port 0, real client certificates): no certificate → 401, a certificate
 * from a CA nobody trusts → 401, an expired or revoked one → 401, one naming no DMR identity → 401, a role that may not
 * use the route → 403; every refusal is in the change log with outcome `refused`. The role matrix covers each role ×
 * each route group. An admin certificate made offline with `dmrctl cert admin` works at once (bootstrap).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientCert, type ControlFixture, call, startControl } from './helpers/control-fixture.js';

let fixture: ControlFixture;

beforeAll(async () => {
  fixture = await startControl();
});

afterAll(async () => {
  await fixture?.stop();
});

async function refusals(): Promise<Array<Record<string, unknown>>> {
  const page = await fixture.control.store().changes.list({ outcome: 'refused', limit: 1000 });
  if (!page.ok) throw new Error(page.message);
  return page.value.items as unknown as Array<Record<string, unknown>>;
}

async function expectRefused(client: ClientCert | undefined, status: number, code: string, subject: string, path = '/v1/agents') {
  const before = (await refusals()).length;
  const answer = await call(fixture, { path, client });
  expect(answer.status).toBe(status);
  expect(answer.json).toMatchObject({ statusCode: status, code });
  const recorded = await refusals();
  expect(recorded).toHaveLength(before + 1);
  expect(recorded.at(-1)).toMatchObject({ outcome: 'refused', code, action: 'request.refused', subjectKind: 'route', actor: { subject } });
  expect(recorded.at(-1)?.subjectId).toBe(`GET ${path.split('?')[0]}`);
}

describe('who is refused, and that it is recorded', () => {
  it('no client certificate → 401 DMR_CONTROL_CERTIFICATE_REQUIRED', async () => {
    await expectRefused(undefined, 401, 'DMR_CONTROL_CERTIFICATE_REQUIRED', 'anonymous');
  });

  it('a certificate from a CA dmr-control does not trust → 401 (claimed identity recorded)', async () => {
    await expectRefused(fixture.pki.clients.foreign, 401, 'DMR_CONTROL_CERTIFICATE_REQUIRED', 'urn:dmr:role:admin:mallory');
  });

  it('an expired certificate from a trusted CA → 401', async () => {
    const { issueAdminCertificate } = await import('../../src/ca/index.js');
    const issued = await issueAdminCertificate(fixture.pki.caDir, 'admin', 'expired.person', {
      outDir: join(fixture.dir, 'expired'),
      validity: { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
    });
    const expired = { cert: await readFile(issued.certificatePath, 'utf8'), key: await readFile(issued.keyPath as string, 'utf8') };
    await expectRefused(expired, 401, 'DMR_CONTROL_CERTIFICATE_REQUIRED', 'urn:dmr:role:admin:expired.person');
  });

  it('a trusted certificate naming no DMR identity → 401', async () => {
    await expectRefused(fixture.pki.clients.noRole, 401, 'DMR_CONTROL_CERTIFICATE_REQUIRED', 'anonymous');
  });

  it('a revoked certificate → 401, decided by the revocation port (the store certificates table by default)', async () => {
    const admin = fixture.pki.clients.admin;
    const { X509Certificate } = await import('node:crypto');
    const certificate = new X509Certificate(admin.cert);
    const serial = certificate.serialNumber.toLowerCase();
    const { normaliseSerial } = await import('@dmr/shared/base');
    await fixture.control.store().transaction(async (tx) => {
      const inserted = await tx.certificates.insert({
        serial: normaliseSerial(serial),
        caId: 'agents',
        subjectKind: 'admin',
        subjectId: 'admin.person',
        notBefore: certificate.validFromDate.toISOString(),
        notAfter: certificate.validToDate.toISOString(),
        pem: admin.cert,
        publicKeySha256: '0'.repeat(64),
      });
      expect(inserted.ok).toBe(true);
    });
    expect((await call(fixture, { path: '/v1/agents', client: admin })).status).toBe(200);
    await fixture.control.store().transaction(async (tx) => {
      expect((await tx.certificates.revoke(normaliseSerial(serial), 'keyCompromise')).ok).toBe(true);
    });
    await expectRefused(admin, 401, 'DMR_CONTROL_CERTIFICATE_REQUIRED', 'urn:dmr:role:admin:admin.person');
    const answer = await call(fixture, { path: '/v1/agents', client: admin });
    expect(String((answer.json as { message: string }).message)).toContain('revoked');
  });

  it('a role the route does not admit → 403 DMR_CONTROL_ROLE_FORBIDDEN', async () => {
    await expectRefused(fixture.pki.clients.agent, 403, 'DMR_CONTROL_ROLE_FORBIDDEN', 'urn:dmr:agent:agent-7');
  });
});

// one representative request per route group; the admin role is revoked above, so the matrix uses a fresh admin below
const GROUPS: ReadonlyArray<{ readonly group: string; readonly method: string; readonly path: string; readonly body?: unknown }> = [
  { group: 'agents:read', method: 'GET', path: '/v1/agents' },
  { group: 'agents:write', method: 'POST', path: '/v1/agents', body: { name: 'matrix' } },
  { group: 'servers:read', method: 'GET', path: '/v1/servers' },
  {
    group: 'servers:report',
    method: 'PUT',
    path: '/v1/servers/dmr-1',
    body: { configVersion: 0, crlNumbers: [], version: '0.1.0', startedAt: '2026-12-07T10:00:00.000Z' },
  },
  { group: 'policies:read', method: 'GET', path: '/v1/policies' },
  {
    group: 'policies:write',
    method: 'POST',
    path: '/v1/policies',
    body: { document: { format: 'dmr-policy/v1', defaultDecision: 'deny', rules: [] } },
  },
  { group: 'changes:read', method: 'GET', path: '/v1/changes' },
  { group: 'config-version:read', method: 'GET', path: '/v1/config-version' },
  { group: 'registry:export', method: 'GET', path: '/v1/export' },
  { group: 'registry:import', method: 'POST', path: '/v1/import?dryRun=true', body: { format: 'dmr-control/registry-v1', agents: [] } },
];

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  admin: [
    'agents:read',
    'agents:write',
    'servers:read',
    'policies:read',
    'policies:write',
    'changes:read',
    'config-version:read',
    'registry:export',
    'registry:import',
  ],
  operator: ['agents:read', 'agents:write', 'servers:read', 'policies:read', 'config-version:read'],
  auditor: ['agents:read', 'servers:read', 'policies:read', 'changes:read', 'config-version:read'],
  server: ['servers:report', 'policies:read', 'config-version:read'],
  agent: ['config-version:read'],
};

describe('the role matrix: each role × each route group, over mutual TLS', () => {
  let matrixAdmin: ClientCert;

  beforeAll(async () => {
    const { issueAdminCertificate } = await import('../../src/ca/index.js');
    const issued = await issueAdminCertificate(fixture.pki.caDir, 'admin', 'matrix.person', { outDir: join(fixture.dir, 'matrix') });
    matrixAdmin = { cert: await readFile(issued.certificatePath, 'utf8'), key: await readFile(issued.keyPath as string, 'utf8') };
  });

  it.each(Object.keys(ALLOWED))('%s', async (role) => {
    const client = role === 'admin' ? matrixAdmin : fixture.pki.clients[role as 'operator'];
    for (const { group, method, path, body } of GROUPS) {
      const before = (await refusals()).length;
      const answer = await call(fixture, { method, path, client, body });
      const isAllowed = ALLOWED[role]?.includes(group) ?? false;
      if (isAllowed) {
        expect(answer.status, `${role} ${group}: ${answer.text}`).toBeLessThan(300);
        expect(await refusals()).toHaveLength(before);
      } else {
        expect(answer.status, `${role} ${group}`).toBe(403);
        expect(answer.json).toMatchObject({ code: 'DMR_CONTROL_ROLE_FORBIDDEN' });
        expect((await refusals()).at(-1)).toMatchObject({ code: 'DMR_CONTROL_ROLE_FORBIDDEN', actor: { role } });
      }
    }
  });

  it('public routes answer without a certificate and record nothing', async () => {
    const before = (await refusals()).length;
    for (const path of ['/centops/configuration', '/v1/health', '/v1/ready', '/metrics', '/v1/openapi.json']) {
      expect((await call(fixture, { path })).status, path).toBe(200);
    }
    expect(await refusals()).toHaveLength(before);
  });
});

describe('bootstrap: an admin certificate from `dmrctl cert admin`', () => {
  it('is issued offline and admitted at once as admin', async () => {
    const dmrctl = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const out = join(fixture.dir, 'bootstrap');
    const run = await promisify(execFile)(process.execPath, [
      dmrctl,
      'cert',
      'admin',
      '--dir',
      fixture.pki.caDir,
      '--out',
      out,
      '--role',
      'admin',
      '--name',
      'mari.maasikas',
    ]);
    expect(run.stdout).toContain('issued admin certificate for mari.maasikas');
    expect(run.stdout).not.toContain('PRIVATE KEY');
    const client = {
      cert: await readFile(join(out, 'admin-admin-mari.maasikas.cert.pem'), 'utf8'),
      key: await readFile(join(out, 'admin-admin-mari.maasikas.key.pem'), 'utf8'),
    };
    const created = await call(fixture, { method: 'POST', path: '/v1/agents', client, body: { id: 'bootstrapped', name: 'First' } });
    expect(created.status).toBe(201);
    const log = await fixture.control.store().changes.list({ subjectId: 'bootstrapped' });
    expect(log.ok && log.value.items[0]?.actor).toEqual({ subject: 'urn:dmr:role:admin:mari.maasikas', role: 'admin' });
    const refused = await promisify(execFile)(process.execPath, [
      dmrctl,
      'cert',
      'admin',
      '--dir',
      fixture.pki.caDir,
      '--out',
      out,
      '--role',
      'root',
      '--name',
      'x',
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr).toContain('expected one of admin, operator, auditor');
  });
});
