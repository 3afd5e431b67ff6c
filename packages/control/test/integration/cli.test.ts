import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCrl } from '../../src/index.js';
import { makeTempDir } from './helpers/temp-dir.js';
import { startProbeServer, tryConnect } from './helpers/tls-probe.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI as a child process under `umask`, the way an operator would. */
function dmrctl(args: readonly string[], umask = '022'): Promise<Run> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, MAIN, ...args], (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(args: readonly string[], umask?: string): Promise<string> {
  const run = await dmrctl(args, umask);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).not.toMatch(/PRIVATE KEY/);
  return run.stdout;
}

const serialIn = (stdout: string): string => /serial\s+([0-9a-f]+)/.exec(stdout)?.[1] ?? '';
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let ca: string;
let brokerCa: string;
let out: string;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npx tsc -b packages/control" first`);
  temp = await makeTempDir('cli');
  ca = join(temp.path, 'ca');
  brokerCa = join(temp.path, 'broker-ca');
  out = join(temp.path, 'out');
});

afterAll(async () => {
  await temp?.remove();
});

describe('dmrctl end to end', () => {
  it('answers --help with exit code 0', async () => {
    for (const args of [['--help'], ['cert', 'relay-user', '--help'], ['revoke', '--help']]) {
      const run = await dmrctl(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: dmrctl/);
    }
  });

  it('runs init → issue → revoke → crl with the right files, modes and CRL content', async () => {
    // umask 000 must not loosen the key, umask 077 must not hide certificates
    await ok(['ca', 'init', '--dir', ca, '--cn', 'DMR CLI Test CA'], '000');
    await ok(['cert', 'server', '--dir', ca, '--out', out, '--dns', 'localhost', '--ip', '127.0.0.1'], '000');
    const a1 = serialIn(await ok(['cert', 'agent', '--dir', ca, '--out', out, '--agent-id', 'a1'], '077'));
    const a2Key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(temp.path, 'a2.pub.pem'), a2Key.publicKey.export({ type: 'spki', format: 'pem' }));
    await ok(['cert', 'agent', '--dir', ca, '--out', out, '--agent-id', 'a2', '--public-key', join(temp.path, 'a2.pub.pem')]);
    // RabbitMQ's certificates come from a CA of their own (the only one RabbitMQ trusts)
    await ok(['ca', 'init', '--dir', brokerCa, '--cn', 'DMR CLI Broker CA', '--purpose', 'broker']);
    await ok(['cert', 'rabbitmq-server', '--dir', brokerCa, '--out', out, '--dns', 'rabbitmq.dmr.example']);
    const relay = serialIn(await ok(['cert', 'relay-user', '--dir', brokerCa, '--out', out, '--user', 'dmr-relay']));

    const revoked = await ok(['revoke', '--dir', ca, '--agent-id', 'a1', '--reason', 'keyCompromise']);
    expect(revoked).toContain(a1);
    const a3 = serialIn(await ok(['cert', 'agent', '--dir', ca, '--out', out, '--agent-id', 'a3']));
    await ok(['revoke', '--dir', ca, '--serial', a3.toUpperCase(), '--reason', 'superseded']);
    await ok(['revoke', '--dir', brokerCa, '--serial', relay, '--reason', 'superseded']);
    expect(await ok(['crl', '--dir', ca])).toMatch(/CRL number\s+1/);

    expect((await readdir(ca)).sort()).toEqual(['ca-state.json', 'ca.cert.pem', 'ca.key.pem', 'crl.pem']);
    expect((await readdir(out)).sort()).toEqual([
      'agent-a1.cert.pem',
      'agent-a1.key.pem',
      'agent-a2.cert.pem',
      'agent-a3.cert.pem',
      'agent-a3.key.pem',
      'dmr-relay.cert.pem',
      'dmr-relay.key.pem',
      'rabbitmq-server.cert.pem',
      'rabbitmq-server.key.pem',
      'server.cert.pem',
      'server.key.pem',
    ]);
    for (const dir of [ca, out]) {
      for (const file of await readdir(dir)) {
        const expected = file.endsWith('.key.pem') || file === 'ca-state.json' ? 0o600 : 0o644;
        expect([file, await modeOf(join(dir, file))]).toEqual([file, expected]);
      }
    }
    const caPem = await readFile(join(ca, 'ca.cert.pem'), 'utf8');
    const crl = await readCrl(await readFile(join(ca, 'crl.pem'), 'utf8'), caPem);
    expect([...crl.revokedSerials].sort()).toEqual([a1, a3].sort());

    // what the CLI wrote works in real TLS: the CRL refuses a1, the agent with its own key is let in
    const server = { key: await readFile(join(out, 'server.key.pem'), 'utf8'), cert: await readFile(join(out, 'server.cert.pem'), 'utf8') };
    const probe = await startProbeServer({ ...server, ca: caPem, crl: await readFile(join(ca, 'crl.pem'), 'utf8') });
    try {
      const a1Tls = {
        key: await readFile(join(out, 'agent-a1.key.pem'), 'utf8'),
        cert: await readFile(join(out, 'agent-a1.cert.pem'), 'utf8'),
      };
      const a2Tls = {
        key: a2Key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        cert: await readFile(join(out, 'agent-a2.cert.pem'), 'utf8'),
      };
      expect((await tryConnect(probe.port, { ca: caPem, ...a1Tls })).accepted).toBe(false);
      expect((await tryConnect(probe.port, { ca: caPem, ...a2Tls })).accepted).toBe(true);
    } finally {
      await probe.close();
    }
  });

  it('ends every PEM it writes with a newline, so `cat old-ca.pem new-ca.pem` is a bundle TLS reads whole', async () => {
    for (const dir of [ca, brokerCa, out]) {
      for (const file of (await readdir(dir)).filter((name) => name.endsWith('.pem'))) {
        expect([file, (await readFile(join(dir, file), 'utf8')).endsWith('-----\n')]).toEqual([file, true]);
      }
    }
    const newCa = join(temp.path, 'new-ca');
    await ok(['ca', 'init', '--dir', newCa, '--cn', 'DMR CLI Test CA 2']);
    await ok(['cert', 'agent', '--dir', newCa, '--out', out, '--agent-id', 'b1']);
    // the operator's way: plain concatenation, handed to OpenSSL as it is (no DMR parsing in between)
    const bundle = (await readFile(join(ca, 'ca.cert.pem'), 'utf8')) + (await readFile(join(newCa, 'ca.cert.pem'), 'utf8'));
    const server = { key: await readFile(join(out, 'server.key.pem'), 'utf8'), cert: await readFile(join(out, 'server.cert.pem'), 'utf8') };
    const probe = await startProbeServer({ ...server, ca: bundle });
    try {
      const fromNewCa = {
        key: await readFile(join(out, 'agent-b1.key.pem'), 'utf8'),
        cert: await readFile(join(out, 'agent-b1.cert.pem'), 'utf8'),
      };
      expect((await tryConnect(probe.port, { ca: bundle, ...fromNewCa })).accepted).toBe(true);
    } finally {
      await probe.close();
    }
  });

  it('shows a certificate as text and JSON', async () => {
    const text = await ok(['cert', 'show', join(out, 'agent-a2.cert.pem')]);
    expect(text).toMatch(/subject\s+CN=a2/);
    expect(text).toMatch(/SANs\s+URI:urn:dmr:agent:a2/);
    expect(text).toMatch(/EKU\s+clientAuth/);
    const json = JSON.parse(await ok(['cert', 'show', '--json', join(out, 'server.cert.pem')]));
    expect(json).toMatchObject({ subject: 'CN=localhost', extendedKeyUsage: ['serverAuth'], isCa: false, agentId: null });
    expect(json.subjectAltNames).toEqual([
      { type: 'DNS', value: 'localhost' },
      { type: 'IP Address', value: '127.0.0.1' },
    ]);
  });

  it('publishes a numbered CRL where told', async () => {
    const target = join(temp.path, 'published.crl.pem');
    expect(await ok(['crl', '--dir', ca, '--out', target, '--days', '1'])).toMatch(/CRL number\s+2/);
    expect(await readFile(target, 'utf8')).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(await modeOf(target)).toBe(0o644);
  });

  it.each([
    [['ca', 'init', '--dir', 'CA', '--cn', 'again'], 1, /DMR_CA_FILE_EXISTS/],
    [['revoke', '--dir', 'CA', '--agent-id', 'a1'], 1, /DMR_CA_ALREADY_REVOKED/],
    [['revoke', '--dir', 'CA', '--serial', '0123'], 1, /DMR_CA_NOT_ISSUED/],
    [['revoke', '--dir', 'CA'], 2, /one of --serial or --agent-id/],
    [['cert', 'agent', '--dir', 'CA', '--out', 'OUT', '--agent-id', 'bad id'], 2, /DMR_CA_INVALID_REQUEST/],
    [['cert', 'agent', '--dir', 'CA', '--out', 'OUT', '--agent-id', 'a1'], 1, /DMR_CA_FILE_EXISTS/],
    [['cert', 'server', '--dir', 'CA', '--out', 'OUT', '--name', 'x'], 2, /at least one DNS name or IP/],
    [['cert', 'show', 'CA/ca-state.json'], 2, /DMR_CA_CERT_INVALID/],
    [['cert', 'show', 'CA/nope.pem'], 1, /DMR_CA_IO_FAILED/],
    [['crl', '--dir', 'CA', '--days', 'seven'], 2, /whole number of days/],
    // issue 15 finding 9: the agent CA never signs what RabbitMQ would trust as a login, nor an agent id naming a broker user
    [['cert', 'relay-user', '--dir', 'CA', '--out', 'OUT', '--user', 'dmr-relay', '--name', 'r2'], 2, /DMR_CA_PURPOSE_MISMATCH/],
    [['cert', 'rabbitmq-server', '--dir', 'CA', '--out', 'OUT', '--dns', 'mq', '--name', 'm2'], 2, /DMR_CA_PURPOSE_MISMATCH/],
    [['cert', 'agent', '--dir', 'BROKER', '--out', 'OUT', '--agent-id', 'a9'], 2, /DMR_CA_PURPOSE_MISMATCH/],
    [['cert', 'server', '--dir', 'BROKER', '--out', 'OUT', '--dns', 'x', '--name', 's2'], 2, /DMR_CA_PURPOSE_MISMATCH/],
    [
      ['cert', 'agent', '--dir', 'CA', '--out', 'OUT', '--agent-id', 'dmr-relay'],
      2,
      /DMR_CA_INVALID_REQUEST: agent id "dmr-relay" is reserved/,
    ],
    [['cert', 'agent', '--dir', 'CA', '--out', 'OUT', '--agent-id', 'guest'], 2, /reserved/],
    [['cert', 'agent', '--dir', 'CA', '--out', 'OUT', '--agent-id', 'Admin'], 2, /reserved/],
    [['cert', 'agent', '--dir', 'CA', '--out', 'OUT', '--agent-id', 'ops', '--broker-users', 'ops,mon'], 2, /reserved/],
    [['ca', 'init', '--dir', 'OUT/ca3', '--cn', 'x', '--purpose', 'both'], 2, /expected one of agents, broker/],
  ])('%j exits %i with a clear message', async (args, code, message) => {
    const run = await dmrctl(
      args.map((arg) =>
        arg
          .replace(/^CA/, ca)
          .replace(/^BROKER/, brokerCa)
          .replace(/^OUT/, out),
      ),
    );
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
  });
});
