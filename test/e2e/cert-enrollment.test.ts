// Issue 18, "Certificate lifecycle without a laptop": an agent started with a one-time token and no key or certificate
// generates its key locally, enrolls with a CSR and starts with the certificate it received; every refusal is clear.
// dmr-control's certificate endpoints are played by test/support/fake-control.ts (real TLS, the test PKI's CA).
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { enrollmentExitCode, prepareAgentCertificate } from '@dmr/agent';
import { agentIdFromSubjectAltName } from '@dmr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  LogCapture,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  testPki,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { FakeControl } from '../support/fake-control.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

const AGENT_BIN = resolve(import.meta.dirname, '../../packages/agent/dist/main.js');

describe('agent enrollment with a one-time token', () => {
  let rabbit: RabbitVhostHandle;
  let control: FakeControl;
  let registry: RegistryFile;
  let receiver: Receiver;
  let server: RunningServer;
  let peer: Identity;
  let dir: string;
  const stops: Array<() => Promise<void>> = [];

  /** The files of one enrolling agent in a fresh directory, and the variables naming them. */
  function agentFiles(agentId: string) {
    const base = mkdtempSync(join(dir, 'agent-'));
    const files = { keyFile: join(base, 'agent.key.pem'), certFile: join(base, 'agent.cert.pem'), caFile: join(base, 'ca.pem') };
    const env = {
      AGENT_ID: agentId,
      AGENT_PRIVATE_KEY_FILE: files.keyFile,
      DMR_TLS_CERT_FILE: files.certFile,
      DMR_TLS_CA_FILE: files.caFile,
      DMR_CONTROL_URL: control.url,
      DMR_CONTROL_CA_FILE: control.caFile,
      LOGGER_LOG_LEVELS: 'error,warn,log,debug',
    };
    return { files, env };
  }

  /** What the registry lists for an enrolled agent: its certificate from the files it wrote. */
  function enrolledIdentity(agentId: string, files: { keyFile: string; certFile: string }): Identity {
    const privatePem = readFileSync(files.keyFile, 'utf8');
    const publicPem = createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString();
    return { id: agentId, privatePem, publicPem, certificatePem: readFileSync(files.certFile, 'utf8') };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dmr-enroll-'));
    control = await new FakeControl(await testPki()).start();
    rabbit = await useRabbitVhost();
    peer = await makeIdentity('ec');
    registry = new RegistryFile([peer]);
    receiver = await new Receiver().start();
    server = await startServer(serverEnv(rabbit, registry.url));
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await server?.server.stop();
    await receiver?.close();
    await control?.stop();
    registry?.remove();
    await rabbit?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates the key locally (0600), enrolls with a CSR, writes certificate and CA bundle, then relays both ways', async () => {
    const agentId = crypto.randomUUID();
    const { files, env } = agentFiles(agentId);
    const logs = new LogCapture('dmr-agent');
    const token = control.addToken(agentId);
    const outcome = await prepareAgentCertificate({ ...env, DMR_ENROLLMENT_TOKEN: token }, { logger: logs.logger });
    expect(outcome).toMatchObject({ action: 'enrolled', isKeyNew: true });
    expect(statSync(files.keyFile).mode & 0o777).toBe(0o600);
    const certificate = new X509Certificate(readFileSync(files.certFile));
    expect(certificate.subject).toBe(`CN=${agentId}`);
    expect(agentIdFromSubjectAltName(certificate.subjectAltName ?? '')).toBe(agentId);
    expect(certificate.checkPrivateKey(createPrivateKey(readFileSync(files.keyFile)))).toBe(true);
    expect(readFileSync(files.caFile, 'utf8')).toBe((await testPki()).caCert);
    // one enroll call carried the CSR and the token; nothing secret of the agent's went out nor into the log
    expect(control.calls.filter((call) => call.path === '/v1/enroll')).toEqual([
      expect.objectContaining({ status: 201, serial: certificate.serialNumber }),
    ]);
    expect(control.enrollBodies.at(-1)).not.toContain('PRIVATE KEY');
    expect(logs.text.join('\n')).not.toContain(token);
    expect(logs.text.join('\n')).not.toContain('PRIVATE KEY');

    const enrolled = enrolledIdentity(agentId, files);
    registry.write([peer, enrolled]);
    await waitUntil(() => server.server.registry.has(agentId), 10_000, 'registry lists the enrolled agent');
    const agent = await startAgent(enrolled, server.url, receiver.url, { ...env, AGENT_PRIVATE_KEY: '' });
    const other = await startAgent(peer, server.url, receiver.url);
    stops.push(
      () => agent.agent.stop(),
      () => other.agent.stop(),
    );
    const out = v1Body(peer.id);
    const back = v1Body(agentId);
    expect((await postMessage(agent.url, out)).status).toBe(202);
    expect((await postMessage(other.url, back)).status).toBe(202);
    await waitUntil(() => receiver.countOf(out.id) === 1 && receiver.countOf(back.id) === 1, 10_000, 'both deliveries');
  });

  it('ignores (and logs) a token when a valid key and certificate are already on disk: nothing is sent', async () => {
    const agentId = crypto.randomUUID();
    const { env } = agentFiles(agentId);
    await prepareAgentCertificate({ ...env, DMR_ENROLLMENT_TOKEN: control.addToken(agentId) }, { logger: new LogCapture('a').logger });
    const before = control.calls.length;
    const logs = new LogCapture('dmr-agent');
    const unused = control.addToken(agentId);
    const outcome = await prepareAgentCertificate({ ...env, DMR_ENROLLMENT_TOKEN: unused }, { logger: logs.logger });
    expect(outcome?.action).toBe('kept');
    expect(control.calls.length).toBe(before);
    expect(logs.lines.some((line) => String(line.msg).startsWith('DMR_ENROLLMENT_TOKEN ignored'))).toBe(true);
    // without a token at all the agent just starts
    expect((await prepareAgentCertificate(env, { logger: logs.logger }))?.action).toBe('kept');
  });

  it('re-enrolls with a new token after its certificate was lost, keeping its key pair', async () => {
    const agentId = crypto.randomUUID();
    const { files, env } = agentFiles(agentId);
    await prepareAgentCertificate({ ...env, DMR_ENROLLMENT_TOKEN: control.addToken(agentId) }, { logger: new LogCapture('a').logger });
    const key = readFileSync(files.keyFile, 'utf8');
    const first = new X509Certificate(readFileSync(files.certFile));
    unlinkSync(files.certFile);
    await expect(prepareAgentCertificate(env, { logger: new LogCapture('a').logger })).rejects.toMatchObject({
      code: 'DMR_CONFIG_INVALID',
      message: expect.stringMatching(/no usable certificate .*no certificate at .*DMR_ENROLLMENT_TOKEN is not set/),
    });
    const outcome = await prepareAgentCertificate(
      { ...env, DMR_ENROLLMENT_TOKEN: control.addToken(agentId) },
      { logger: new LogCapture('a').logger },
    );
    expect(outcome).toMatchObject({ action: 'enrolled', isKeyNew: false });
    const second = new X509Certificate(readFileSync(files.certFile));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(readFileSync(files.keyFile, 'utf8')).toBe(key);
    expect(second.publicKey.export({ type: 'spki', format: 'pem' })).toBe(first.publicKey.export({ type: 'spki', format: 'pem' }));
  });

  it.each([
    [
      'a used token',
      (agentId: string) => usedToken(agentId),
      'DMR_CONTROL_TOKEN_USED',
      /ask an operator for a new enrollment token.*may have leaked/,
    ],
    [
      'an expired token',
      (agentId: string) => control.addToken(agentId, -1000),
      'DMR_CONTROL_TOKEN_EXPIRED',
      /ask an operator for a new enrollment token/,
    ],
    ['an unknown token', () => 'dmr_et_never-issued', 'DMR_CONTROL_TOKEN_UNKNOWN', /check DMR_ENROLLMENT_TOKEN was copied whole/],
    ["another agent's token", () => control.addToken(crypto.randomUUID()), 'DMR_CONTROL_CSR_SUBJECT_MISMATCH', /is the token for AGENT_ID/],
  ])(
    'refuses %s with DMR_CERT_ENROLLMENT_REFUSED naming dmr-control’s code and what to do; exit code 2',
    async (_name, tokenFor, controlCode, hint) => {
      const agentId = crypto.randomUUID();
      const { files, env } = agentFiles(agentId);
      const token = await tokenFor(agentId);
      const failure = await prepareAgentCertificate({ ...env, DMR_ENROLLMENT_TOKEN: token }, { logger: new LogCapture('a').logger }).catch(
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'DMR_CERT_ENROLLMENT_REFUSED', message: expect.stringContaining(controlCode) });
      expect((failure as Error).message).toMatch(hint);
      expect(enrollmentExitCode(failure)).toBe(2);
      // the key generated for the attempt stays for the next token; no certificate was written
      expect(existsSync(files.keyFile)).toBe(true);
      expect(existsSync(files.certFile)).toBe(false);
    },
  );

  it('dmr-agent exits 2 with one clear line (no stack trace) when its token was already used', async () => {
    const agentId = crypto.randomUUID();
    const { env } = agentFiles(agentId);
    const token = await usedToken(agentId);
    const result = await runAgent({
      ...env,
      DMR_ENROLLMENT_TOKEN: token,
      DMR_SERVER_WEBSOCKET_URL: server.url,
      OUTGOING_MESSAGE_ENDPOINT: receiver.url,
      PORT: '0',
    });
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/dmr-agent: dmr-control refused \/v1\/enroll: DMR_CONTROL_TOKEN_USED/);
    expect(result.output).not.toMatch(/^\s+at /m);
    expect(result.output).not.toContain(token);
  });

  it('retries an unreachable dmr-control, then fails with DMR_CERT_CONTROL_UNREACHABLE (exit code 1)', async () => {
    const agentId = crypto.randomUUID();
    const { env } = agentFiles(agentId);
    const logs = new LogCapture('dmr-agent');
    const failure = await prepareAgentCertificate(
      { ...env, DMR_CONTROL_URL: 'https://127.0.0.1:1', DMR_ENROLLMENT_TOKEN: control.addToken(agentId) },
      { logger: logs.logger, retryForMs: 3000, sleep: () => new Promise((r) => setTimeout(r, 10)) },
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'DMR_CERT_CONTROL_UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') });
    expect(enrollmentExitCode(failure)).toBe(1);
    expect(logs.find({ msg: 'enrollment attempt failed; retrying' }).length).toBeGreaterThan(0);
  });

  it('refuses enrollment settings that cannot work, naming the variables', async () => {
    const { env } = agentFiles(crypto.randomUUID());
    const logger = new LogCapture('a').logger;
    await expect(
      prepareAgentCertificate({ ...env, DMR_CONTROL_URL: '', DMR_CONTROL_CA_FILE: '', DMR_ENROLLMENT_TOKEN: 't' }, { logger }),
    ).rejects.toThrow(/DMR_ENROLLMENT_TOKEN is set but DMR_CONTROL_URL is not/);
    await expect(prepareAgentCertificate({ ...env, DMR_ENROLLMENT_KEY_TYPE: 'ed25519' }, { logger })).rejects.toThrow(
      /DMR_ENROLLMENT_KEY_TYPE must be ec-p256 or rsa-3072, got "ed25519"/,
    );
    await expect(
      prepareAgentCertificate({ ...env, DMR_TLS_KEY_FILE: '/elsewhere.pem', DMR_ENROLLMENT_TOKEN: 't' }, { logger }),
    ).rejects.toThrow(/DMR_TLS_KEY_FILE must be AGENT_PRIVATE_KEY_FILE/);
    await expect(prepareAgentCertificate({ ...env, DMR_TLS_CERT_FILE: '' }, { logger })).rejects.toThrow(/DMR_TLS_CERT_FILE is required/);
  });

  it('generates an RSA-3072 key when DMR_ENROLLMENT_KEY_TYPE=rsa-3072', async () => {
    const agentId = crypto.randomUUID();
    const { files, env } = agentFiles(agentId);
    await prepareAgentCertificate(
      { ...env, DMR_ENROLLMENT_KEY_TYPE: 'rsa-3072', DMR_ENROLLMENT_TOKEN: control.addToken(agentId) },
      { logger: new LogCapture('a').logger },
    );
    const key = createPublicKey(readFileSync(files.keyFile));
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(new X509Certificate(readFileSync(files.certFile)).publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
  });

  /** A token already spent by another enrollment of the same agent. */
  async function usedToken(agentId: string): Promise<string> {
    const token = control.addToken(agentId);
    const { env } = agentFiles(agentId);
    await prepareAgentCertificate({ ...env, DMR_ENROLLMENT_TOKEN: token }, { logger: new LogCapture('a').logger });
    return token;
  }
});

function runAgent(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [AGENT_BIN], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
