// Issue 18 end to end with a real dmr-control (in process, SQLite, its own CA): an operator creates two agents and
// gets one-time tokens through the admin API; the agents enroll (keys made locally), the server reads the registry
// from dmr-control's CentOps endpoint, messages flow both ways; an agent renews its certificate through dmr-control
// while messages flow (0 lost), the server renews its own (enrolled with a service token) and swaps it live, and a
// spent token is refused with dmr-control's code.
import { createPrivateKey, createPublicKey, randomUUID, type webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { prepareAgentCertificate } from '@dmr/agent';
import { initCa, issueAdminCertificate, issueServerCertificate } from '@dmr/control';
import { buildControl, type DmrControl, loadControlConfig } from '@dmr/control/service';
import { createLogger } from '@dmr/shared';
import { enrollAtControl } from '@dmr/shared/certs';
import { x509 } from '@dmr/shared/pki';
import { testKeyPair } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  LogCapture,
  postMessage,
  Receiver,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

interface Pair {
  readonly cert: string;
  readonly key: string;
}

describe('certificate lifecycle against a real dmr-control', () => {
  let dir: string;
  let caFile: string;
  let control: DmrControl;
  let controlUrl: string;
  let admin: Pair;
  let operator: Pair;
  let rabbit: RabbitVhostHandle;
  let receiver: Receiver;
  let server: RunningServer;
  const agents: RunningAgent[] = [];
  // each started agent's variables (its file paths)
  const envs = new Map<string, Record<string, string>>();

  /** A call to dmr-control's admin API with `client`'s certificate. */
  function api(client: Pair, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${controlUrl}${path}`,
        {
          method,
          ca: readFileSync(caFile),
          cert: client.cert,
          key: client.key,
          agent: false,
          headers: payload ? { 'content-type': 'application/json' } : {},
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Creates an agent through the API and returns a fresh enrollment token for it. */
  async function agentWithToken(agentId: string): Promise<string> {
    expect((await api(operator, 'POST', '/v1/agents', { id: agentId, name: `agent ${agentId.slice(0, 8)}` })).status).toBe(201);
    return tokenFor(agentId);
  }

  async function tokenFor(agentId: string): Promise<string> {
    const answer = await api(operator, 'POST', `/v1/agents/${agentId}/enrollment-tokens`);
    expect(answer.status).toBe(201);
    return answer.json.token as string;
  }

  /** The files and variables of an agent that enrolls with dmr-control. */
  function agentEnv(agentId: string): Record<string, string> {
    const base = mkdtempSync(join(dir, 'agent-'));
    return {
      AGENT_ID: agentId,
      AGENT_PRIVATE_KEY: '',
      AGENT_PRIVATE_KEY_FILE: join(base, 'agent.key.pem'),
      DMR_TLS_CERT_FILE: join(base, 'agent.cert.pem'),
      DMR_TLS_CA_FILE: join(base, 'ca.pem'),
      DMR_PEER_CA_FILE: join(base, 'ca.pem'),
      DMR_CONTROL_URL: controlUrl,
      DMR_CONTROL_CA_FILE: caFile,
    };
  }

  /** Enrolls with `token`, then starts the agent from the files it wrote. */
  async function enrollAndStart(agentId: string, token: string): Promise<RunningAgent> {
    const env = agentEnv(agentId);
    const outcome = await prepareAgentCertificate({ ...env, DMR_ENROLLMENT_TOKEN: token }, { logger: new LogCapture('enroll').logger });
    expect(outcome?.action).toBe('enrolled');
    const privatePem = readFileSync(env.AGENT_PRIVATE_KEY_FILE as string, 'utf8');
    const identity: Identity = {
      id: agentId,
      privatePem,
      publicPem: createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString(),
      certificatePem: readFileSync(env.DMR_TLS_CERT_FILE as string, 'utf8'),
    };
    // the server reads the registry from dmr-control, which listed the certificate at enrollment
    await waitUntil(() => server.server.registry.has(agentId), 10_000, `registry lists ${agentId}`);
    const running = await startAgent(identity, server.url, receiver.url, env);
    agents.push(running);
    envs.set(agentId, env);
    return running;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dmr-control-e2e-'));
    const caDir = join(dir, 'ca');
    const out = join(dir, 'certs');
    const ca = await initCa({ dir: caDir, commonName: 'DMR agents CA (e2e)', purpose: 'agents' });
    caFile = ca.certificatePath;
    const tls = await issueServerCertificate(
      caDir,
      { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
      { outDir: out, name: 'control' },
    );
    admin = await pairOf(await issueAdminCertificate(caDir, 'admin', 'e2e.admin', { outDir: out }));
    operator = await pairOf(await issueAdminCertificate(caDir, 'operator', 'e2e.operator', { outDir: out }));
    const config = loadControlConfig({
      DMR_CONTROL_HOST: '127.0.0.1',
      DMR_CONTROL_PORT: '0',
      DMR_CONTROL_DATABASE_URL: `sqlite:${join(dir, 'control.db')}`,
      DMR_CONTROL_CA_DIR: caDir,
      DMR_TLS_CERT_FILE: tls.certificatePath,
      DMR_TLS_KEY_FILE: tls.keyPath as string,
      LOGGER_LOG_LEVELS: 'error',
    });
    control = buildControl(config, { log: createLogger({ name: 'dmr-control', level: 'silent' }) });
    controlUrl = `https://127.0.0.1:${(await control.start()).port}`;

    rabbit = await useRabbitVhost();
    receiver = await new Receiver().start();
    const serverFiles = await enrollServer('dmr-e2e-1');
    server = await startServer(
      serverEnv(rabbit, `${controlUrl}/centops/configuration`, {
        DMR_ALLOW_PLAINTEXT: 'false',
        DMR_TLS_CERT_FILE: serverFiles.certFile,
        DMR_TLS_KEY_FILE: serverFiles.keyFile,
        DMR_TLS_CA_FILE: serverFiles.caFile,
        CENTOPS_CONFIGURATION_CA_FILE: caFile,
        CENTOPS_ALLOW_EMPTY_REGISTRY: 'true',
        DMR_CONTROL_URL: controlUrl,
        DMR_CONTROL_CA_FILE: caFile,
        DMR_CONTROL_PUSH: 'false',
        DMR_INSTANCE_ID: 'dmr-e2e-1',
        DMR_CERT_RELOAD_INTERVAL_MS: '200',
      }),
    );
  });

  afterAll(async () => {
    for (const running of agents) await running.agent.stop();
    await server?.server.stop();
    await receiver?.close();
    await control?.stop();
    await rabbit?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A server certificate from dmr-control through a service enrollment token (what an operator would run once). */
  async function enrollServer(name: string): Promise<{ certFile: string; keyFile: string; caFile: string }> {
    const grant = await api(admin, 'POST', `/v1/servers/${name}/enrollment-tokens`, {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    expect(grant.status).toBe(201);
    const keys = testKeyPair('ec');
    const csr = await serverCsr(name, keys.privatePem);
    const issued = await enrollAtControl({ url: controlUrl, ca: readFileSync(caFile, 'utf8') }, grant.json.token as string, csr);
    const files = { certFile: join(dir, `${name}.cert.pem`), keyFile: join(dir, `${name}.key.pem`), caFile: join(dir, `${name}.ca.pem`) };
    writeFileSync(files.certFile, issued.certificate);
    writeFileSync(files.keyFile, keys.privatePem, { mode: 0o600 });
    writeFileSync(files.caFile, issued.caCertificates);
    return files;
  }

  it('enrolls two agents with tokens from the admin API and relays both ways through a server reading dmr-control', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const agentA = await enrollAndStart(a, await agentWithToken(a));
    const agentB = await enrollAndStart(b, await agentWithToken(b));
    const listed = await api(operator, 'GET', `/v1/agents/${a}`);
    expect(listed.json.authenticationCertificate).toBe(readFileSync(agentEnvFile(agentA, 'DMR_TLS_CERT_FILE'), 'utf8'));
    const out = v1Body(b);
    const back = v1Body(a);
    expect((await postMessage(agentA.url, out)).status).toBe(202);
    expect((await postMessage(agentB.url, back)).status).toBe(202);
    await waitUntil(() => receiver.countOf(out.id) === 1 && receiver.countOf(back.id) === 1, 15_000, 'both deliveries');
  });

  it('an agent renews through dmr-control while messages flow both ways: same key, new serial, 0 lost, 0 refused', async () => {
    const [agentA, agentB] = agents as [RunningAgent, RunningAgent];
    const keeper = agentA.agent.certificates;
    if (!keeper) throw new Error('agent A has no certificate keeper');
    const before = keeper.facts;
    const untilMs = Date.now() + 4000;
    const flow = sendBothWays(agentA, agentB, untilMs);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await keeper.renewNow();
    const sent = await flow;
    expect(keeper.facts.serial).not.toBe(before.serial);
    expect(keeper.facts.publicKeySha256).toBe(before.publicKeySha256);
    expect(sent.refused).toEqual([]);
    expect(sent.accepted.length).toBeGreaterThan(20);
    await waitUntil(() => sent.accepted.every((id) => receiver.countOf(id) >= 1), 15_000, 'every accepted message delivered');
    expect(sent.accepted.filter((id) => receiver.countOf(id) !== 1)).toEqual([]);
    expect(agentA.logs.find({ msg: 'moved to a new connection with the new client certificate' })).toHaveLength(1);
    // the renewed certificate is on disk, issued by dmr-control for the same key
    const onDisk = new X509Certificate(readFileSync(agentEnvFile(agentA, 'DMR_TLS_CERT_FILE')));
    expect(onDisk.serialNumber.toUpperCase()).toBe(keeper.facts.serial);
    expect(onDisk.checkPrivateKey(createPrivateKey(readFileSync(agentEnvFile(agentA, 'AGENT_PRIVATE_KEY_FILE'))))).toBe(true);
  });

  it('the server renews its own certificate through dmr-control and serves the new one to new handshakes', async () => {
    const keeper = server.server.certificateKeepers.tls;
    if (!keeper) throw new Error('the server has no TLS keeper');
    const before = keeper.facts.serial;
    const [agentA] = agents as [RunningAgent];
    await keeper.renewNow();
    expect(keeper.facts.serial).not.toBe(before);
    expect(await handshakeSerial(server.port)).toBe(keeper.facts.serial);
    expect(agentA.agent.linkState).toBe('connected');
    expect(server.logs.find({ msg: 'certificate renewed' })).toHaveLength(1);
  });

  it('refuses a spent token with dmr-control’s code, and a fresh token from the API enrolls', async () => {
    const agentId = randomUUID();
    const token = await agentWithToken(agentId);
    const first = agentEnv(agentId);
    await prepareAgentCertificate({ ...first, DMR_ENROLLMENT_TOKEN: token }, { logger: new LogCapture('e').logger });
    const again = agentEnv(agentId);
    await expect(
      prepareAgentCertificate({ ...again, DMR_ENROLLMENT_TOKEN: token }, { logger: new LogCapture('e').logger }),
    ).rejects.toMatchObject({
      code: 'DMR_CERT_ENROLLMENT_REFUSED',
      message: expect.stringContaining('DMR_CONTROL_TOKEN_USED'),
    });
    const outcome = await prepareAgentCertificate(
      { ...again, DMR_ENROLLMENT_TOKEN: await tokenFor(agentId) },
      { logger: new LogCapture('e').logger },
    );
    expect(outcome?.action).toBe('enrolled');
  });

  /** The serial (upper-case hex) a new TLS handshake with `port` is shown. */
  function handshakeSerial(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(caFile), servername: 'localhost' }, () => {
        resolve((socket.getPeerX509Certificate()?.serialNumber ?? '').toUpperCase());
        socket.end();
      });
      socket.once('error', reject);
    });
  }

  function agentEnvFile(running: RunningAgent, variable: 'DMR_TLS_CERT_FILE' | 'AGENT_PRIVATE_KEY_FILE'): string {
    const path = envs.get(running.identity.id)?.[variable];
    if (path === undefined) throw new Error(`no ${variable} known for ${running.identity.id}`);
    return path;
  }
});

async function pairOf(issued: { certificatePath: string; keyPath?: string }): Promise<Pair> {
  return { cert: readFileSync(issued.certificatePath, 'utf8'), key: readFileSync(issued.keyPath as string, 'utf8') };
}

/** A server instance's CSR: CN = its DNS name, SAN URI urn:dmr:server:<name> (dmr-control sets the DNS names and IPs). */
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

/** Sends A→B and B→A, three at a time each way, until `untilMs`. */
async function sendBothWays(a: RunningAgent, b: RunningAgent, untilMs: number) {
  const accepted: string[] = [];
  const refused: Array<{ status: number; body: unknown }> = [];
  const lane = async (sender: RunningAgent, recipientId: string) => {
    while (Date.now() < untilMs) {
      const body = v1Body(recipientId);
      const answer = await postMessage(sender.url, body);
      if (answer.status === 202) accepted.push(body.id);
      else refused.push({ status: answer.status, body: answer.body });
    }
  };
  await Promise.all([0, 1, 2].flatMap(() => [lane(a, b.identity.id), lane(b, a.identity.id)]));
  return { accepted, refused };
}
