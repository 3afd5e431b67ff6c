// dmrctl's certificate commands against a real dmr-control (in-process, SQLite, mTLS on 127.0.0.1): an operator makes
// an enrollment token with `dmrctl agents token`, the agent enrolls with it (its CSR, its key), then `dmrctl certs list`
// finds the certificate and `dmrctl certs revoke` revokes it.
import { randomUUID, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Env } from '@dmr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/output.js';
import { EXIT_FAILED, EXIT_USAGE, runCli } from '../../src/cli/program.js';
import { makeCsr, testKeyPair } from '../helpers/csr.js';
import { type ControlFixture, call, startControl } from './helpers/control-fixture.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let fixture: ControlFixture;
const envs: Record<string, Env> = {};

async function dmrctl(args: readonly string[], who = 'operator'): Promise<Run> {
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
  const code = await runCli(args, io, { env: envs[who] ?? {} });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  fixture = await startControl();
  for (const who of ['admin', 'operator', 'auditor'] as const) {
    const client = fixture.pki.clients[who];
    const certFile = join(fixture.dir, `${who}.cert.pem`);
    const keyFile = join(fixture.dir, `${who}.key.pem`);
    await writeFile(certFile, client.cert);
    await writeFile(keyFile, client.key, { mode: 0o600 });
    envs[who] = {
      DMR_CONTROL_URL: `https://127.0.0.1:${fixture.port}`,
      DMR_CONTROL_CERT_FILE: certFile,
      DMR_CONTROL_KEY_FILE: keyFile,
      DMR_CONTROL_CA_FILE: join(fixture.pki.caDir, 'ca.cert.pem'),
    };
  }
});

afterAll(async () => {
  await fixture?.stop();
});

/** Creates an agent, makes its token with dmrctl and enrolls it over /v1/enroll; returns the certificate's serial. */
async function enrolledAgent(): Promise<{ id: string; serial: string; token: string; run: Run }> {
  const id = `cert-${randomUUID().slice(0, 8)}`;
  expect((await dmrctl(['agents', 'create', '--id', id, '--name', `Agent ${id}`])).code).toBe(0);
  const run = await dmrctl(['agents', 'token', id]);
  expect(run.code, run.stderr).toBe(0);
  const token = run.stdout.trim();
  const enrolled = await call(fixture, {
    method: 'POST',
    path: '/v1/enroll',
    body: { token, csr: await makeCsr(testKeyPair(), { cn: id }) },
  });
  expect(enrolled.status, enrolled.text).toBe(201);
  return { id, serial: String((enrolled.json as { serial: string }).serial), token, run };
}

describe('dmrctl agents token', () => {
  it('prints the token alone on stdout, once, and warns on stderr that it is a secret', async () => {
    const { id, token, run } = await enrolledAgent();
    expect(run.stdout).toBe(`${token}\n`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(run.stderr).toMatch(
      new RegExp(`this enrollment token is a SECRET: whoever holds it can enroll as agent ${id} once, until \\d{4}-`),
    );
    expect(run.stderr).not.toContain(token);
    // single use: the same token again is refused by dmr-control
    const again = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token, csr: await makeCsr(testKeyPair(), { cn: id }) },
    });
    expect(again.status).toBe(401);
    const json = await dmrctl(['agents', 'token', id, '--output', 'json']);
    expect(JSON.parse(json.stdout)).toEqual({ agentId: id, token: expect.any(String), expiresAt: expect.any(String) });
  });

  it('an auditor may not make tokens: the 403 code, exit 1', async () => {
    const run = await dmrctl(['agents', 'token', 'whoever'], 'auditor');
    expect(run.code).toBe(EXIT_FAILED);
    expect(run.stderr).toMatch(/^dmrctl: DMR_CONTROL_ROLE_FORBIDDEN: .*\(HTTP 403\)\n$/);
  });
});

describe('dmrctl servers token | relay-token', () => {
  it('makes a server instance token whose enrollment gives a certificate with exactly the names given', async () => {
    const run = await dmrctl(['servers', 'token', 'dmr-7.example', '--dns-name', 'dmr-7.example', '--ip', '127.0.0.1'], 'admin');
    expect(run.code, run.stderr).toBe(0);
    const token = run.stdout.trim();
    expect(run.stdout).toBe(`${token}\n`);
    expect(run.stderr).toMatch(
      /this enrollment token is a SECRET: whoever holds it can enroll as server dmr-7\.example once, until \d{4}-/,
    );
    expect(run.stderr).not.toContain(token);
    const enrolled = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token, csr: await makeCsr(testKeyPair(), { uris: ['urn:dmr:server:dmr-7.example'] }) },
    });
    expect(enrolled.status, enrolled.text).toBe(201);
    const certificate = new X509Certificate((enrolled.json as { certificate: string }).certificate);
    expect(certificate.subjectAltName).toContain('DNS:dmr-7.example');
    expect(certificate.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(certificate.subjectAltName).toContain('URI:urn:dmr:server:dmr-7.example');
    const json = await dmrctl(['servers', 'token', 'dmr-8.example', '--dns-name', 'dmr-8.example', '--output', 'json'], 'admin');
    expect(JSON.parse(json.stdout)).toEqual({
      kind: 'server',
      subjectId: 'dmr-8.example',
      dnsNames: ['dmr-8.example'],
      ipAddresses: [],
      token: expect.any(String),
      expiresAt: expect.any(String),
    });
  });

  it('makes a relay-user token for the broker CA profile (default user dmr-relay)', async () => {
    const run = await dmrctl(['servers', 'relay-token', '--output', 'json'], 'admin');
    expect(run.code, run.stderr).toBe(0);
    const shown = JSON.parse(run.stdout) as { token: string };
    expect(shown).toEqual({ kind: 'relay-user', subjectId: 'dmr-relay', token: expect.any(String), expiresAt: expect.any(String) });
    expect(run.stderr).toContain('enroll as the relay user dmr-relay once');
    const enrolled = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token: shown.token, csr: await makeCsr(testKeyPair(), { cn: 'dmr-relay' }) },
    });
    // the token is a relay-user token (an unknown one would be 401 DMR_CONTROL_TOKEN_UNKNOWN): this fixture's CA
    // directory is an agent CA only, so issuing needs the broker CA the relay user's profile asks for (as cert-http.test.ts)
    expect([enrolled.status, (enrolled.json as { code?: string }).code]).toEqual([503, 'DMR_CONTROL_CA_UNAVAILABLE']);
  });

  it('needs at least one name for a server, exit 2; an operator may not make server tokens (403), exit 1', async () => {
    const bare = await dmrctl(['servers', 'token', 'dmr-9.example'], 'admin');
    expect(bare.code).toBe(EXIT_USAGE);
    expect(bare.stderr).toMatch(/--dns-name or --ip/);
    const operator = await dmrctl(['servers', 'token', 'dmr-9.example', '--dns-name', 'dmr-9.example']);
    expect(operator.code).toBe(EXIT_FAILED);
    expect(operator.stderr).toMatch(/^dmrctl: DMR_CONTROL_ROLE_FORBIDDEN: .*\(HTTP 403\)\n$/);
  });
});

describe('dmrctl certs', () => {
  it('lists certificates with their expiry, filters by subject and by expiring within a span', async () => {
    const { id, serial } = await enrolledAgent();
    const listed = await dmrctl(['certs', 'list', '--subject', id]);
    expect(listed.code, listed.stderr).toBe(0);
    const [header, row, ...rest] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^SERIAL\s+KIND\s+SUBJECT\s+NOT AFTER\s+EXPIRES\s+STATUS$/);
    expect(row).toMatch(new RegExp(`^${serial}\\s+agent\\s+${id}\\s+\\S+\\s+in \\d+d\\s+valid$`));
    expect(rest).toEqual([]);
    const soon = JSON.parse((await dmrctl(['certs', 'list', '--subject', id, '--expiring-within', '1d', '--output', 'json'])).stdout);
    expect(soon.items).toEqual([]);
    const later = JSON.parse((await dmrctl(['certs', 'list', '--subject', id, '--expiring-within', '400d', '--output', 'json'])).stdout);
    expect(later.items).toEqual([expect.objectContaining({ serial, subjectId: id, subjectKind: 'agent' })]);
  });

  it('revokes with a reason: the serial and the agent cut are printed, the list shows it revoked', async () => {
    const { id, serial } = await enrolledAgent();
    const colons = serial.toUpperCase().match(/../g)?.join(':') ?? serial;
    const run = await dmrctl(['certs', 'revoke', colons, '--reason', 'keyCompromise']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      `revoked 1 certificate(s), reason keyCompromise: ${serial}\n` +
        `agents cut from the registry until they enroll again: ${id}\n` +
        'dmr-control signed a new CRL and announces it: servers drop the connections of revoked certificates\n',
    );
    const revoked = JSON.parse((await dmrctl(['certs', 'list', '--subject', id, '--revoked', '--output', 'json'])).stdout);
    expect(revoked.items).toEqual([expect.objectContaining({ serial, revocationReason: 'keyCompromise' })]);
    expect((await dmrctl(['certs', 'list', '--subject', id])).stdout).toMatch(/revoked \(keyCompromise\)\n$/);
    const twice = await dmrctl(['certs', 'revoke', serial, '--reason', 'superseded']);
    expect(twice.code).toBe(EXIT_FAILED);
    expect(twice.stderr).toMatch(/^dmrctl: DMR_CA_ALREADY_REVOKED: .*\(HTTP 409\)/);
  });

  it('refuses a reason the API does not take before connecting, exit 2', async () => {
    const run = await dmrctl(['certs', 'revoke', 'aa', '--reason', 'certificateHold']);
    expect(run.code).toBe(EXIT_USAGE);
    expect(run.stderr).toMatch(/--reason <reason>' argument 'certificateHold' is invalid/);
  });
});
