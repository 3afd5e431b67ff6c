// Issue 15, finding 18: a missing or unreadable TLS/CRL file is a configuration error like any other bad setting:
// the built `dmr-server` and `dmr-agent` exit with code 2 and one line naming the variable and the file, no stack trace.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentTlsEnv, makeIdentity, serverTlsEnv } from '../support/dmr-system.js';
import { TestPki } from '../support/pki.js';

const root = resolve(import.meta.dirname, '../..');
const SERVER_BIN = join(root, 'packages/server/dist/main.js');
const AGENT_BIN = join(root, 'packages/agent/dist/main.js');

/** Runs a bin to its exit (it must exit by itself within 20 s); returns its exit code and everything it printed. */
function run(bin: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

function expectNoStackTrace(output: string): void {
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toContain('node:internal');
}

// the broker is never reached: every case fails before the first connection attempt
const SERVER_BASE = {
  PORT: '0',
  HOST: '127.0.0.1',
  CENTOPS_CONFIGURATION_URL: 'file:///nonexistent/agents.json',
  RABBITMQ_DEFAULT_HOST: '127.0.0.1',
  RABBITMQ_DEFAULT_PORT: '1',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:1',
  RABBITMQ_DEFAULT_USER: 'dmr',
  RABBITMQ_DEFAULT_PASS: 'unused',
};

describe('TLS and CRL files at start of the built processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmr-missing-'));
  const missing = join(dir, 'nothing-here.pem');
  let foreign: TestPki;

  beforeAll(async () => {
    foreign = await new TestPki().init('Some Other CA');
  });

  afterAll(() => {
    foreign?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dmr-server: a missing CRL file, a missing certificate and a directory as key exit 2 naming each variable and file', async () => {
    const tls = await serverTlsEnv();
    const crl = await run(SERVER_BIN, { ...SERVER_BASE, ...tls, DMR_TLS_CRL_FILE: missing });
    expect(crl.code).toBe(2);
    expect(crl.output).toContain(`DMR_TLS_CRL_FILE: cannot read "${missing}" (no such file)`);
    expectNoStackTrace(crl.output);

    const several = await run(SERVER_BIN, { ...SERVER_BASE, ...tls, DMR_TLS_CERT_FILE: missing, DMR_TLS_KEY_FILE: dir });
    expect(several.code).toBe(2);
    expect(several.output).toContain(`DMR_TLS_CERT_FILE: cannot read "${missing}"`);
    expect(several.output).toContain(`DMR_TLS_KEY_FILE: cannot read "${dir}" (it is a directory)`);
    expectNoStackTrace(several.output);
  });

  it('dmr-server: a CRL not issued by the agent CA exits 2 naming DMR_TLS_CRL_FILE', async () => {
    const result = await run(SERVER_BIN, { ...SERVER_BASE, ...(await serverTlsEnv()), DMR_TLS_CRL_FILE: foreign.crlPath });
    expect(result.code).toBe(2);
    expect(result.output).toContain(`DMR_TLS_CRL_FILE: "${foreign.crlPath}"`);
    expect(result.output).toContain('not by the configured CA');
    expectNoStackTrace(result.output);
  });

  it('dmr-agent: a missing client certificate exits 2 naming DMR_TLS_CERT_FILE and the file', async () => {
    const agent = await makeIdentity('ec');
    const result = await run(AGENT_BIN, {
      AGENT_ID: agent.id,
      AGENT_PRIVATE_KEY: agent.privatePem,
      DMR_SERVER_WEBSOCKET_URL: 'https://127.0.0.1:1',
      OUTGOING_MESSAGE_ENDPOINT: 'http://127.0.0.1:1/inbox',
      ...(await agentTlsEnv(agent.id)),
      DMR_TLS_CERT_FILE: missing,
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain(`DMR_TLS_CERT_FILE: cannot read "${missing}" (no such file)`);
    expectNoStackTrace(result.output);
  });
});
