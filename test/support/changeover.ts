// Helpers of the trust-anchor change-over e2e test (issue 18): a control plane whose CA directory is a ring
// (`ring.json` + one dmrctl CA directory per CA), server instances enrolled with service tokens, the bundle an agent
// starts with, dmrctl run as a process, and steady two-way traffic that records every answer.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initCa, issueAdminCertificate, issueServerCertificate } from '@dmr/control';
import { enrollAtControl } from '@dmr/shared/certs';
import { x509 } from '@dmr/shared/pki';
import { testKeyPair } from '@dmr/testkit';
import { type ControlPki, callControl, type RunningControl } from './control-plane.js';
import { postMessage, v1Body } from './dmr-system.js';

const root = resolve(import.meta.dirname, '../..');

/** The ring's first CA: what signs before the change-over. */
export const OLD_CA_ID = 'agents-2026';
/** The CA published, activated and kept. */
export const NEW_CA_ID = 'agents-2027';

/** A control PKI whose CA directory is a ring of one CA (`<caDir>/<OLD_CA_ID>`, active). */
export interface RingPki extends ControlPki {
  readonly adminCertFile: string;
  readonly adminKeyFile: string;
}

/**
 * `<dir>/ca/ring.json` naming one active agents CA, dmr-control's TLS certificate and an admin certificate from it.
 * `caFile` is the old CA's certificate: what dmr-control's clients trust its TLS certificate with.
 */
export async function makeRingPki(): Promise<RingPki> {
  const dir = mkdtempSync(join(tmpdir(), 'dmr-changeover-e2e-'));
  const caDir = join(dir, 'ca');
  const oldDir = join(caDir, OLD_CA_ID);
  const ca = await initCa({ dir: oldDir, commonName: 'DMR Agents CA 2026', purpose: 'agents' });
  const ring = { version: 1, cas: [{ id: OLD_CA_ID, purpose: 'agents', status: 'active' }] };
  writeFileSync(join(caDir, 'ring.json'), `${JSON.stringify(ring, null, 2)}\n`, { mode: 0o600 });
  const out = join(dir, 'certs');
  const tls = await issueServerCertificate(
    oldDir,
    { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
    { outDir: out, name: 'control' },
  );
  const admin = await issueAdminCertificate(oldDir, 'admin', 'e2e.admin', { outDir: out });
  const controlCa = join(dir, 'control-ca.pem');
  writeFileSync(controlCa, ca.certificatePem);
  return {
    dir,
    caDir,
    caFile: controlCa,
    caPem: ca.certificatePem,
    serverCertFile: tls.certificatePath,
    serverKeyFile: tls.keyPath as string,
    admin: { cert: readFileSync(admin.certificatePath, 'utf8'), key: readFileSync(admin.keyPath as string, 'utf8') },
    adminCertFile: admin.certificatePath,
    adminKeyFile: admin.keyPath as string,
  };
}

/** An admin certificate from the CA `caId` of the ring (what `dmrctl cert admin --dir <DMR_CONTROL_CA_DIR>/<caId>` writes). */
export async function adminFrom(pki: RingPki, caId: string): Promise<{ certFile: string; keyFile: string }> {
  const issued = await issueAdminCertificate(join(pki.caDir, caId), 'admin', `e2e.admin.${caId}`, {
    outDir: join(pki.dir, `admin-${caId}`),
  });
  return { certFile: issued.certificatePath, keyFile: issued.keyPath as string };
}

/** The certificate of CA `caId` of the ring. */
export function ringCaCertificate(pki: RingPki, caId: string): X509Certificate {
  return new X509Certificate(readFileSync(join(pki.caDir, caId, 'ca.cert.pem')));
}

/** Runs `dmrctl ca-ring <step> <caId>` against `control` as the admin in `admin`; returns its exit status and output. */
export function dmrctlCaRing(
  control: RunningControl,
  pki: RingPki,
  step: 'publish' | 'activate' | 'retire',
  caId: string,
  admin: { certFile: string; keyFile: string },
  extra: readonly string[] = [],
): { status: number | null; stdout: string; stderr: string } {
  const args = ['ca-ring', step, caId, '--url', control.url, '--cert', admin.certFile, '--key', admin.keyFile, '--ca', pki.caFile];
  const run = spawnSync(process.execPath, [join(root, 'packages/control/dist/cli/main.js'), ...args, ...extra, '--output', 'json'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A server instance's files, enrolled with a service token from the admin API. */
export interface ServerFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** Asks the admin API for `name`'s service token, enrolls a fresh P-256 key with it, writes cert, key and CA bundle. */
export async function enrollServer(control: RunningControl, pki: RingPki, name: string): Promise<ServerFiles> {
  const grant = await callControl(control, pki, {
    method: 'POST',
    path: `/v1/servers/${name}/enrollment-tokens`,
    body: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
  });
  if (grant.status !== 201) throw new Error(`server token ${name}: ${grant.status} ${JSON.stringify(grant.json)}`);
  const keys = testKeyPair('ec');
  const issued = await enrollAtControl(
    { url: control.url, ca: pki.caPem },
    String(grant.json.token),
    await serverCsr(name, keys.privatePem),
  );
  const files = {
    certFile: join(pki.dir, `${name}.cert.pem`),
    keyFile: join(pki.dir, `${name}.key.pem`),
    caFile: join(pki.dir, `${name}.ca.pem`),
  };
  writeFileSync(files.certFile, issued.certificate);
  writeFileSync(files.keyFile, keys.privatePem, { mode: 0o600 });
  writeFileSync(files.caFile, issued.caCertificates);
  return files;
}

async function serverCsr(name: string, privatePem: string): Promise<string> {
  const privateKey = createPrivateKey(privatePem);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = {
    privateKey: await privateKey.toCryptoKey(algorithm, false, ['sign']),
    publicKey: await createPublicKey(privateKey).toCryptoKey(algorithm, true, ['verify']),
  } as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=localhost',
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `urn:dmr:server:${name}` }], false)],
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
  });
  return csr.toString('pem');
}

/** One answer of an agent's `POST /v1/messages` that was not 202. */
export interface RefusedSend {
  readonly lane: string;
  readonly status: number;
  readonly code: unknown;
  readonly atMs: number;
}

/**
 * Steady traffic on lanes `from → to` (agent URLs and recipient ids), `perLane` requests in flight each, until
 * {@link Traffic.stop}: every 202 is recorded with its recipient, every other answer as refused.
 */
export class Traffic {
  readonly accepted: Array<{ id: string; recipientId: string }> = [];
  readonly refused: RefusedSend[] = [];
  #isRunning = true;
  readonly #loops: Array<Promise<void>> = [];

  constructor(lanes: ReadonlyArray<{ name: string; fromUrl: string; toId: string }>, perLane = 2) {
    for (const lane of lanes) for (let i = 0; i < perLane; i++) this.#loops.push(this.#run(lane));
  }

  async #run(lane: { name: string; fromUrl: string; toId: string }): Promise<void> {
    while (this.#isRunning) {
      const body = v1Body(lane.toId);
      const answer = await postMessage(lane.fromUrl, body).catch((error: unknown) => ({ status: 0, body: { code: String(error) } }));
      if (answer.status === 202) this.accepted.push({ id: body.id, recipientId: lane.toId });
      else this.refused.push({ lane: lane.name, status: answer.status, code: answer.body.code, atMs: Date.now() });
      // a steady flow, not a flood: two cores are shared by every process of the test
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  /** Stops every lane and waits for the requests in flight. */
  async stop(): Promise<void> {
    this.#isRunning = false;
    await Promise.all(this.#loops);
  }
}
