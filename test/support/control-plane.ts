// dmr-control for end-to-end tests: a CA directory made with the project's CA library (what `dmrctl ca init`,
// `dmrctl cert server` and `dmrctl cert admin` write), dmr-control as a real process on a SQLite file, an admin
// client over mutual TLS, and agent enrollment the way an agent does it (key made here, CSR, POST /v1/enroll).
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initCa, issueAdminCertificate, issueServerCertificate } from '@dmr/control';
import { x509 } from '@dmr/shared/pki';
import { findFreePorts } from '@dmr/testkit';
import type { BrokerTarget } from './dmr-system.js';

const root = resolve(import.meta.dirname, '../..');

/** A child process with its output collected. */
export interface Proc {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
  /** Parsed JSON log lines written so far (other lines skipped). */
  lines(): Array<Record<string, unknown>>;
}

/** Starts `node <bin>` (a dist/main.js) with exactly `env` plus PATH. */
export function launch(bin: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [join(root, bin)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const lines = () =>
    output
      .join('')
      .split('\n')
      .flatMap((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
  return { child, output, exited, lines };
}

/** The control plane's files: its CA directory, its TLS certificate, and an admin client certificate. */
export interface ControlPki {
  readonly dir: string;
  readonly caDir: string;
  readonly caFile: string;
  readonly caPem: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly admin: { readonly cert: string; readonly key: string };
}

/** Makes the CA (`dmrctl ca init`), a TLS certificate for 127.0.0.1 (`dmrctl cert server`) and an admin certificate. */
export async function makeControlPki(): Promise<ControlPki> {
  const dir = mkdtempSync(join(tmpdir(), 'dmr-control-e2e-'));
  const caDir = join(dir, 'ca');
  const out = join(dir, 'certs');
  const ca = await initCa({ dir: caDir, commonName: 'DMR Agents CA' });
  const server = await issueServerCertificate(caDir, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, { outDir: out, name: 'tls' });
  const admin = await issueAdminCertificate(caDir, 'admin', 'e2e.admin', { outDir: out });
  return {
    dir,
    caDir,
    caFile: ca.certificatePath,
    caPem: ca.certificatePem,
    serverCertFile: server.certificatePath,
    serverKeyFile: server.keyPath as string,
    admin: { cert: readFileSync(admin.certificatePath, 'utf8'), key: readFileSync(admin.keyPath as string, 'utf8') },
  };
}

/** A running dmr-control process. */
export interface RunningControl {
  readonly proc: Proc;
  readonly url: string;
  readonly port: number;
  /** Its ops listener (plain HTTP: /v1/health, /v1/ready, /metrics). */
  readonly opsPort: number;
}

/** Starts dmr-control (SQLite in the PKI's dir, the CA as its CA dir, push on `rabbit`) and waits until it answers. */
export async function startControlProcess(
  pki: ControlPki,
  rabbit: BrokerTarget,
  /** Variables to add or replace; undefined removes one (e.g. DMR_TLS_CA_FILE, so a CA ring gives the client CAs). */
  extra: Record<string, string | undefined> = {},
): Promise<RunningControl> {
  const [port = 0, opsPort = 0] = await findFreePorts(2);
  const env: Record<string, string | undefined> = {
    DMR_CONTROL_HOST: '127.0.0.1',
    DMR_CONTROL_PORT: String(port),
    DMR_OPS_PORT: String(opsPort),
    DMR_CONTROL_DATABASE_URL: `sqlite:${join(pki.dir, 'control.db')}`,
    DMR_CONTROL_CA_DIR: pki.caDir,
    DMR_TLS_CERT_FILE: pki.serverCertFile,
    DMR_TLS_KEY_FILE: pki.serverKeyFile,
    DMR_TLS_CA_FILE: pki.caFile,
    RABBITMQ_DEFAULT_HOST: '127.0.0.1',
    RABBITMQ_DEFAULT_PORT: String(rabbit.amqpPort),
    RABBITMQ_DEFAULT_VHOST: rabbit.vhost,
    RABBITMQ_DEFAULT_USER: rabbit.user,
    RABBITMQ_DEFAULT_PASS: rabbit.password,
    LOGGER_LOG_LEVELS: 'error,warn,log,info',
    ...extra,
  };
  const defined = Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const proc = launch('packages/control/dist/service/main.js', Object.fromEntries(defined));
  const deadline = Date.now() + 30_000;
  while (!(await isUp(opsPort))) {
    if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`dmr-control did not start: ${proc.output.join('')}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  return { proc, url: `https://127.0.0.1:${port}`, port, opsPort };
}

async function isUp(opsPort: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${opsPort}/v1/ready`).catch(() => undefined);
  return response?.status === 200;
}

/** An answer of the control plane. */
export interface ControlAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly json: Record<string, unknown>;
}

/** Calls dmr-control over HTTPS, trusting its CA and presenting `client` (the admin by default, none when null). */
export function callControl(
  control: RunningControl,
  pki: ControlPki,
  options: {
    method?: string;
    path: string;
    body?: unknown;
    headers?: Record<string, string>;
    client?: { cert: string; key: string } | null;
  },
): Promise<ControlAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const client = options.client === undefined ? pki.admin : options.client;
  return new Promise((done, fail) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port: control.port,
        method: options.method ?? 'GET',
        path: options.path,
        ca: pki.caPem,
        ...(client ? { cert: client.cert, key: client.key } : {}),
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
        agent: false,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on('end', () => done({ status: response.statusCode ?? 0, headers: response.headers, json: text ? JSON.parse(text) : {} }));
      },
    );
    request.on('error', fail);
    request.end(payload);
  });
}

/** An agent enrolled through the API: its key (made here, never sent) and the files its process is started with. */
export interface EnrolledAgent {
  readonly id: string;
  readonly keyFile: string;
  readonly certFile: string;
  readonly serial: string;
}

/** Creates agent `id` through the API, asks for a token, and enrolls a fresh P-256 key with a CSR over POST /v1/enroll. */
export async function createAndEnroll(control: RunningControl, pki: ControlPki, id: string): Promise<EnrolledAgent> {
  const created = await callControl(control, pki, { method: 'POST', path: '/v1/agents', body: { id, name: `Agent ${id}` } });
  if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${JSON.stringify(created.json)}`);
  const token = await callControl(control, pki, { method: 'POST', path: `/v1/agents/${id}/enrollment-tokens`, body: {} });
  if (token.status !== 201) throw new Error(`token ${id}: ${token.status} ${JSON.stringify(token.json)}`);
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = await csrFor(pair, id);
  const enrolled = await callControl(control, pki, {
    method: 'POST',
    path: '/v1/enroll',
    body: { token: token.json.token, csr },
    client: null,
  });
  if (enrolled.status !== 201) throw new Error(`enroll ${id}: ${enrolled.status} ${JSON.stringify(enrolled.json)}`);
  const keyFile = join(pki.dir, `${id}.key.pem`);
  const certFile = join(pki.dir, `${id}.cert.pem`);
  writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(certFile, String(enrolled.json.certificate));
  return { id, keyFile, certFile, serial: String(enrolled.json.serial) };
}

async function csrFor(pair: { privateKey: KeyObject; publicKey: KeyObject }, id: string): Promise<string> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pair.privateKey.export({ type: 'pkcs8', format: 'der' }), algorithm, false, [
    'sign',
  ]);
  const publicKey = await webcrypto.subtle.importKey('spki', pair.publicKey.export({ type: 'spki', format: 'der' }), algorithm, true, [
    'verify',
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name([{ CN: [{ utf8String: id }] }]),
    keys: { privateKey, publicKey } as unknown as webcrypto.CryptoKeyPair,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `urn:dmr:agent:${id}` }])],
  } as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]);
  return csr.toString('pem');
}

/** PATCHes agent `id` with `fields`, reading its ETag first (If-Match). */
export async function patchAgent(
  control: RunningControl,
  pki: ControlPki,
  id: string,
  fields: Record<string, unknown>,
): Promise<ControlAnswer> {
  const current = await callControl(control, pki, { path: `/v1/agents/${id}` });
  const etag = String(current.headers.etag);
  return callControl(control, pki, { method: 'PATCH', path: `/v1/agents/${id}`, body: fields, headers: { 'if-match': etag } });
}

/** Removes the PKI's temp dir. */
export function removeControlPki(pki: ControlPki): void {
  rmSync(pki.dir, { recursive: true, force: true });
}
