// A real dmr-control for tests: a CA made by the CA library in a temp dir (key 0600), its server certificate,
// administrator certificates from the new `admin` profile, server and agent role certificates from a second (testkit)
// CA that is also trusted, a foreign CA nobody trusts, and a SQLite store in the temp dir. Requests go over real
// HTTPS with mutual TLS (`call`) or through `inject()` with an identity header (`injectAs`) where mTLS is not the point.

import { readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { createLogger, type Env } from '@dmr/shared';
import { TestCa, testKeyPair } from '@dmr/testkit';
import type { FastifyRequest } from 'fastify';
import { initCa, issueAdminCertificate, issueServerCertificate } from '../../../src/ca/index.js';
import type { PresentedCertificate } from '../../../src/domain/index.js';
import { buildControl, type ControlDeps, type DmrControl, loadControlConfig } from '../../../src/service/index.js';
import { makeTempDir } from './temp-dir.js';

/** A client certificate and its key (PEM). */
export interface ClientCert {
  readonly cert: string;
  readonly key: string;
}

/** The PKI of a fixture: every identity the role matrix needs. */
export interface FixturePki {
  readonly caDir: string;
  readonly caFile: string;
  /** The CA certificate that issued dmr-control's server certificate (what clients verify it with). */
  readonly caCertPem: string;
  readonly clients: Readonly<Record<'admin' | 'operator' | 'auditor' | 'server' | 'agent' | 'foreign' | 'noRole', ClientCert>>;
}

/** A started dmr-control and its PKI. */
export interface ControlFixture {
  readonly control: DmrControl;
  readonly port: number;
  readonly dir: string;
  readonly pki: FixturePki;
  stop(): Promise<void>;
}

/** An HTTP answer. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: unknown;
}

/** Makes the PKI in `dir`. */
export async function makePki(dir: string): Promise<FixturePki> {
  const caDir = join(dir, 'ca');
  const out = join(dir, 'certs');
  await initCa({ dir: caDir, commonName: 'Control Test CA' });
  await issueServerCertificate(caDir, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, { outDir: out, name: 'control' });
  const admins: Array<readonly [string, ClientCert]> = [];
  // one after another: the CA directory is locked while a certificate is issued
  for (const role of ['admin', 'operator', 'auditor'] as const) {
    const issued = await issueAdminCertificate(caDir, role, `${role}.person`, { outDir: out });
    admins.push([role, await readPair(issued.certificatePath, issued.keyPath as string)]);
  }
  const roles = await TestCa.create('Control Test Roles CA');
  const foreign = await TestCa.create('Foreign CA');
  const caFile = join(dir, 'client-cas.pem');
  const caCertPem = await readFile(join(caDir, 'ca.cert.pem'), 'utf8');
  await writeFile(caFile, `${caCertPem}${roles.pem}`);
  return {
    caDir,
    caFile,
    caCertPem,
    clients: {
      ...(Object.fromEntries(admins) as Record<'admin' | 'operator' | 'auditor', ClientCert>),
      server: await leaf(roles, 'dmr-1.example', ['urn:dmr:server:dmr-1.example']),
      agent: await leaf(roles, 'agent-7', ['urn:dmr:agent:agent-7']),
      foreign: await leaf(foreign, 'admin', ['urn:dmr:role:admin:mallory']),
      noRole: await leaf(roles, 'nobody', ['urn:example:nobody']),
    },
  };
}

async function leaf(ca: TestCa, name: string, uris: string[]): Promise<ClientCert> {
  const pair = testKeyPair();
  return { cert: await ca.agentCertificate(name, pair.publicKey, { uris }), key: pair.privatePem };
}

async function readPair(certPath: string, keyPath: string): Promise<ClientCert> {
  return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}

/** Starts dmr-control on 127.0.0.1 with a fresh PKI and SQLite store; `env` adds or overrides variables. */
export async function startControl(env: Env = {}, deps: ControlDeps = {}): Promise<ControlFixture> {
  const temp = await makeTempDir('control');
  const pki = await makePki(temp.path);
  const config = loadControlConfig({
    DMR_CONTROL_HOST: '127.0.0.1',
    DMR_CONTROL_PORT: '0',
    DMR_CONTROL_DATABASE_URL: `sqlite:${join(temp.path, 'control.db')}`,
    DMR_CONTROL_CA_DIR: pki.caDir,
    DMR_TLS_CERT_FILE: join(temp.path, 'certs/control.cert.pem'),
    DMR_TLS_KEY_FILE: join(temp.path, 'certs/control.key.pem'),
    DMR_TLS_CA_FILE: pki.caFile,
    LOGGER_LOG_LEVELS: 'error',
    ...env,
  });
  const control = buildControl(config, { log: createLogger({ name: 'dmr-control-test', level: 'silent' }), ...deps });
  const { port } = await control.start();
  return {
    control,
    port,
    dir: temp.path,
    pki,
    stop: async () => {
      await control.stop();
      await temp.remove();
    },
  };
}

/** Calls the fixture over HTTPS, presenting `client`'s certificate (none when undefined). */
export function call(
  fixture: ControlFixture,
  options: { method?: string; path: string; client?: ClientCert | undefined; body?: unknown; headers?: Record<string, string> },
): Promise<Answer> {
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: fixture.port,
        method: options.method ?? 'GET',
        path: options.path,
        ca: fixture.pki.caCertPem,
        servername: 'localhost',
        ...(options.client ? { cert: options.client.cert, key: options.client.key } : {}),
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseOrText(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The identities `injectAs` understands: a role name, `none` (no certificate) or `unverified`. */
export type InjectIdentity = 'admin' | 'operator' | 'auditor' | 'server' | 'agent' | 'none' | 'unverified';

/** Header a test sets on `inject()` requests to say who calls (read only by {@link injectIdentity}). */
export const IDENTITY_HEADER = 'x-test-identity';

/** `ControlDeps.identify` for `inject()` tests: the caller named by {@link IDENTITY_HEADER}, with serial 0a + role length. */
export function injectIdentity(request: FastifyRequest): PresentedCertificate | undefined {
  const who = String(request.headers[IDENTITY_HEADER] ?? 'none') as InjectIdentity;
  if (who === 'none') return undefined;
  const uri =
    who === 'server'
      ? 'urn:dmr:server:dmr-1.example'
      : who === 'agent'
        ? 'urn:dmr:agent:agent-7'
        : `urn:dmr:role:${who === 'unverified' ? 'admin' : who}:tester`;
  return { isVerified: who !== 'unverified', subjectAltName: `URI:${uri}`, serialNumber: `0A${who.length.toString(16).padStart(2, '0')}` };
}
