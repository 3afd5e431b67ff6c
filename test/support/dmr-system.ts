// Building blocks for end-to-end tests: identities with keys generated at run time, a registry file,
// a real HTTP receiver standing in for a chatbot's endpoint, and real servers and agents on port 0.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Agent, buildAgent, loadAgentConfig } from '@dmr/agent';
import { buildServer, type DmrServer, loadServerConfig } from '@dmr/server';
import { createLogger, type Logger } from '@dmr/shared';
import { type LeafFiles, TestPki } from './pki.js';
import type { RabbitVhostInfo } from './rabbit.js';

let sharedPki: Promise<TestPki> | undefined;
let serverLeaf: Promise<LeafFiles> | undefined;
const agentLeaves = new Map<string, Promise<LeafFiles>>();

/** The test file's PKI (one CA per worker process), made on first use and removed when the process exits. */
export function testPki(): Promise<TestPki> {
  sharedPki ??= new TestPki().init().then((pki) => {
    process.once('exit', () => pki.remove());
    return pki;
  });
  return sharedPki;
}

/** A client certificate for `agentId` from the test PKI (issued once per id). */
export async function agentLeaf(agentId: string): Promise<LeafFiles> {
  const pki = await testPki();
  let leaf = agentLeaves.get(agentId);
  if (!leaf) {
    leaf = pki.agent(agentId);
    agentLeaves.set(agentId, leaf);
  }
  return leaf;
}

/** Server TLS settings from the test PKI (certificate for 127.0.0.1, CRL watched every 500 ms). */
export async function serverTlsEnv(): Promise<Record<string, string>> {
  const pki = await testPki();
  serverLeaf ??= pki.server();
  const leaf = await serverLeaf;
  return {
    DMR_ALLOW_PLAINTEXT: 'false',
    DMR_TLS_CERT_FILE: leaf.certPath,
    DMR_TLS_KEY_FILE: leaf.keyPath,
    DMR_TLS_CA_FILE: pki.caCertPath,
    DMR_TLS_CRL_FILE: pki.crlPath,
    DMR_TLS_CRL_RELOAD_INTERVAL_MS: '500',
  };
}

/** Agent TLS settings for `agentId` from the test PKI. */
export async function agentTlsEnv(agentId: string): Promise<Record<string, string>> {
  const pki = await testPki();
  const leaf = await agentLeaf(agentId);
  return {
    DMR_ALLOW_PLAINTEXT: 'false',
    DMR_TLS_CA_FILE: pki.caCertPath,
    DMR_TLS_CERT_FILE: leaf.certPath,
    DMR_TLS_KEY_FILE: leaf.keyPath,
  };
}

/** An agent identity with its keys (generated now; never written to the repo) and its certificate from the test PKI. */
export interface Identity {
  readonly id: string;
  readonly privatePem: string;
  readonly publicPem: string;
  /** PEM certificate for `publicPem` from the test PKI (SAN urn:dmr:agent:<id>): what the registry lists. */
  readonly certificatePem: string;
}

/**
 * Makes a fresh agent identity with an EC P-256 or RSA-2048 key pair and a certificate from the test PKI for it.
 * The same certificate and key are the agent's TLS client certificate (see {@link agentLeaf}): one key per agent,
 * as `dmrctl cert agent` issues it.
 */
export async function makeIdentity(kind: 'ec' | 'rsa' = 'ec'): Promise<Identity> {
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const id = randomUUID();
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const pki = await testPki();
  const { certPath, cert } = await pki.agentForKey(id, publicPem);
  const keyPath = join(pki.dir, `${id}.key.pem`);
  writeFileSync(keyPath, privatePem, { mode: 0o600 });
  agentLeaves.set(id, Promise.resolve({ certPath, keyPath, cert, key: privatePem }));
  return { id, privatePem, publicPem, certificatePem: cert };
}

/** Path of the test PKI's CA certificate: the agents' DMR_PEER_CA_FILE (the CA the registry's certificates chain to). */
export async function peerCaFile(): Promise<string> {
  return (await testPki()).caCertPath;
}

/** A registry file on disk served through a `file://` URL, rewritable during a test. */
export class RegistryFile {
  readonly #dir = mkdtempSync(join(tmpdir(), 'dmr-registry-'));
  readonly path = join(this.#dir, 'agents.json');
  readonly url = `file://${this.path}`;

  constructor(agents: readonly Identity[]) {
    this.write(agents);
  }

  /** Writes a valid CentOps document listing `agents`. */
  write(agents: readonly Identity[]): void {
    const now = new Date().toISOString();
    const response = agents.map((a) => ({
      id: a.id,
      name: a.id,
      authentication_certificate: a.certificatePem,
      created_at: now,
      updated_at: now,
    }));
    writeFileSync(this.path, JSON.stringify({ response }));
  }

  /** Writes arbitrary text (to test broken documents). */
  writeRaw(text: string): void {
    writeFileSync(this.path, text);
  }

  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** What the receiver got: the parsed body. */
export type Delivered = Record<string, unknown> & { id: string; senderId: string };

/** A real HTTP endpoint standing in for OUTGOING_MESSAGE_ENDPOINT; its answer can be changed during a test. */
export class Receiver {
  readonly received: Delivered[] = [];
  /** The `Idempotency-Key` header of every attempt, in arrival order (failed attempts included). */
  readonly idempotencyKeys: Array<string | undefined> = [];
  attempts = 0;
  #status: (attempt: number) => number = () => 200;
  #server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        this.attempts++;
        const key = request.headers['idempotency-key'];
        this.idempotencyKeys.push(typeof key === 'string' ? key : undefined);
        const status = this.#status(this.attempts);
        if (status >= 200 && status < 300) this.received.push(JSON.parse(body) as Delivered);
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/inbox`;
    return this;
  }

  /** Sets the HTTP status the endpoint answers, by attempt number (1-based, counted over the receiver's life). */
  respondWith(status: (attempt: number) => number): void {
    this.#status = status;
  }

  /** Deliveries of message `id`. */
  countOf(id: string): number {
    return this.received.filter((message) => message.id === id).length;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/** Collects JSON log lines so tests can assert what was logged (and what never was). */
export class LogCapture {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly text: string[] = [];
  readonly logger: Logger;

  constructor(name: string) {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          this.text.push(line);
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        callback();
      },
    });
    this.logger = createLogger({ name, level: 'debug', destination: sink });
  }

  /** Lines whose fields include all of `fields`. */
  find(fields: Record<string, unknown>): Array<Record<string, unknown>> {
    return this.lines.filter((line) => Object.entries(fields).every(([key, value]) => line[key] === value));
  }
}

/** A started in-process dmr-server. */
export interface RunningServer {
  readonly server: DmrServer;
  readonly url: string;
  readonly port: number;
  readonly logs: LogCapture;
}

/** The broker coordinates a server needs. */
export type BrokerTarget = Pick<RabbitVhostInfo, 'amqpPort' | 'managementBase' | 'user' | 'password' | 'vhost'>;

/** Environment of a server bound to `rabbit` and the registry at `registryUrl`. */
export function serverEnv(rabbit: BrokerTarget, registryUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    CENTOPS_CONFIGURATION_URL: registryUrl,
    CENTOPS_CONFIGURATION_CRON_TIME: '* * * * * *',
    RABBITMQ_DEFAULT_HOST: '127.0.0.1',
    RABBITMQ_DEFAULT_PORT: String(rabbit.amqpPort),
    RABBITMQ_DEFAULT_VHOST: rabbit.vhost,
    RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: rabbit.managementBase,
    RABBITMQ_DEFAULT_USER: rabbit.user,
    RABBITMQ_DEFAULT_PASS: rabbit.password,
    RABBITMQ_DEFAULT_DEFAULT_RECONNECT_INTERVAL: '200',
    RABBITMQ_RECONNECT_INTERVAL_MAX: '1000',
    DMR_SHUTDOWN_TIMEOUT_MS: '3000',
    LOGGER_LOG_LEVELS: 'error,warn,log,debug',
    DMR_ALLOW_PLAINTEXT: 'true',
    ...extra,
  };
}

/**
 * Builds, starts and waits until ready. Agents reach it over mutual TLS with the test PKI, as in production,
 * unless the env already carries TLS settings or `plaintext` is asked for.
 */
export async function startServer(env: Record<string, string>, options: { plaintext?: boolean } = {}): Promise<RunningServer> {
  const isTls = !options.plaintext;
  const finalEnv = isTls && !env.DMR_TLS_CERT_FILE ? { ...env, ...(await serverTlsEnv()) } : env;
  const logs = new LogCapture('dmr-server');
  const server = buildServer(loadServerConfig(finalEnv), { log: logs.logger });
  const { port } = await server.start();
  await waitUntil(() => server.readiness().isReady, 15_000, 'server ready');
  const scheme = finalEnv.DMR_TLS_CERT_FILE ? 'https' : 'http';
  return { server, url: `${scheme}://127.0.0.1:${port}`, port, logs };
}

/** A started in-process dmr-agent. */
export interface RunningAgent {
  readonly agent: Agent;
  readonly url: string;
  readonly logs: LogCapture;
  readonly identity: Identity;
}

/** Builds and starts an agent connected to `serverUrl`, delivering to `endpointUrl`, and waits until ready. */
export async function startAgent(
  identity: Identity,
  serverUrl: string,
  endpointUrl: string,
  extra: Record<string, string> = {},
  options: { waitReady?: boolean } = {},
): Promise<RunningAgent> {
  const logs = new LogCapture('dmr-agent');
  // an https server URL means mutual TLS: the agent presents its own certificate from the test PKI
  const tls = serverUrl.startsWith('https:') && !extra.DMR_TLS_CERT_FILE ? await agentTlsEnv(identity.id) : {};
  // peer keys are trusted through the test PKI that issued the registry's certificates, whatever CA the link uses
  const peerCa = { DMR_PEER_CA_FILE: await peerCaFile() };
  const config = loadAgentConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    AGENT_ID: identity.id,
    AGENT_PRIVATE_KEY: identity.privatePem,
    DMR_SERVER_WEBSOCKET_URL: serverUrl,
    OUTGOING_MESSAGE_ENDPOINT: endpointUrl,
    WEBSOCKET_RECONNECTION_DELAY: '100',
    WEBSOCKET_RECONNECTION_DELAY_MAX: '500',
    MESSAGE_DELIVERY_TIMEOUT_MS: '5000',
    OUTGOING_MESSAGE_TIMEOUT_MS: '2000',
    DMR_SHUTDOWN_TIMEOUT_MS: '2000',
    LOGGER_LOG_LEVELS: 'error,warn,log,debug',
    DMR_ALLOW_PLAINTEXT: 'true',
    // in-process agents share the test runner's event loop: its stalls (key generation, other work) are not the
    // agent's overload; the admission on event-loop delay is tested in packages/agent/test/integration/backpressure.test.ts
    DMR_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...peerCa,
    ...tls,
    ...extra,
  });
  const agent = buildAgent(config, { logger: logs.logger, endpointBackoff: { initialDelayMs: 20, maxDelayMs: 100 } });
  await agent.start();
  const address = agent.app.server.address() as AddressInfo;
  const running = { agent, url: `http://127.0.0.1:${address.port}`, logs, identity };
  if (options.waitReady !== false) await waitUntil(() => isReady(running.url), 15_000, `agent ${identity.id} ready`);
  return running;
}

async function isReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/v1/ready`).catch(() => undefined);
  return response?.status === 200;
}

/** Polls `condition` until true or throws after `timeoutMs` naming `label`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, label: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${label}`);
}

/** A valid v1 body for `recipientId` (seed 003 shape) with a content marker that must never leak. */
export function v1Body(recipientId: string, content = `secret-${randomUUID()}`, id: string = randomUUID()) {
  const now = new Date().toISOString();
  const chatId = randomUUID();
  return {
    id,
    recipientId,
    timestamp: now,
    type: 'ChatMessage',
    payload: {
      chat: { id: chatId, created: now, endUserFirstName: 'Alice', endUserEmail: 'alice@example.com' },
      messages: [{ id: randomUUID(), chatId, content, authorTimestamp: now, authorRole: 'end-user', buttons: '[]' }],
    },
  };
}

/** POSTs a body to an agent's /v1/messages. */
export async function postMessage(agentUrl: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${agentUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/**
 * GET for the server's operator endpoints; over https it trusts `caPem` (default: the test CA) and presents no client
 * certificate (like a probe).
 */
export async function probe(url: string, caPem?: string): Promise<{ status: number; text: string }> {
  if (!url.startsWith('https:')) {
    const response = await fetch(url);
    return { status: response.status, text: await response.text() };
  }
  const ca = caPem ?? (await testPki()).caCert;
  return new Promise((resolve, reject) => {
    const request = httpsGet(url, { ca }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
  });
}
