// Runs DMR locally: private RabbitMQ node, dmr-control (registry, CA, CRL, config push; SQLite in the work dir),
// dmr-server, agents A and B (a dev CA generated now, never committed; agents reach the server over mutual TLS and
// enroll themselves with a one-time token minted through dmr-control's admin API: each makes its own P-256 key, and
// dmr-control's registry lists each agent's certificate, the only way an agent trusts a peer's key), and a receiver
// that prints what each agent delivers.
// Ctrl-C stops everything, node included.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { initCa, issueServerCertificate } from '@dmr/control';
import { startRabbitNode } from '@dmr/testkit';
import { createAgentWithToken, makeAdmin } from './local-control.mjs';

const root = resolve(import.meta.dirname, '..');
// DMR_LOCAL_DIR: where keys, certificates and the RabbitMQ node live (wiped at start); tests point it elsewhere
const workDir = resolve(process.env.DMR_LOCAL_DIR ?? join(root, '.dev'));
const ports = {
  server: Number(process.env.DMR_LOCAL_SERVER_PORT ?? 8090),
  agentA: Number(process.env.DMR_LOCAL_AGENT_A_PORT ?? 8091),
  agentB: Number(process.env.DMR_LOCAL_AGENT_B_PORT ?? 8092),
  receiver: Number(process.env.DMR_LOCAL_RECEIVER_PORT ?? 8093),
  control: Number(process.env.DMR_LOCAL_CONTROL_PORT ?? 8094),
};
// each deployable's ops listener (health, readiness, metrics over plain HTTP, no client certificate): main port + 100
const opsPorts = { server: ports.server + 100, agentA: ports.agentA + 100, agentB: ports.agentB + 100, control: ports.control + 100 };
const controlUrl = `https://127.0.0.1:${ports.control}`;
const children = [];
let rabbit;
let receiver;
let isStopping = false;

function startReceiver() {
  return new Promise((resolveListen) => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        console.log(`\n[receiver] agent ${req.url?.slice(1)} delivered:\n${body}\n`);
        res.writeHead(200).end();
      });
    });
    server.listen(ports.receiver, '127.0.0.1', () => resolveListen(server));
  });
}

function run(name, bin, env) {
  const child = spawn(process.execPath, [join(root, bin)], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!isStopping) {
      console.error(`[local] ${name} exited (code ${code}, signal ${signal}); stopping everything`);
      void stop(1);
    }
  });
  children.push({ name, child });
}

function isOk(url) {
  return fetch(url).then(
    (r) => r.ok,
    () => false,
  );
}

async function makePki() {
  const caDir = join(workDir, 'pki', 'ca');
  const outDir = join(workDir, 'pki', 'certs');
  // the agent CA (dmr-control, DMR server and agent certificates); RabbitMQ runs without TLS here. With AMQPS, its
  // certificates come from a separate broker CA (dmrctl ca init --purpose broker): see deploy/rabbitmq/README.md
  const ca = await initCa({ dir: caDir, commonName: 'DMR local dev CA', purpose: 'agents' });
  // one certificate for 127.0.0.1 serves dmr-control's and dmr-server's TLS listeners
  const server = await issueServerCertificate(caDir, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, { outDir, name: 'server' });
  const admin = await makeAdmin(caDir, outDir);
  return { caDir, caCertPath: ca.certificatePath, caPem: ca.certificatePem, server, admin };
}

async function waitReady(url, label) {
  for (let i = 0; i < 150; i++) {
    const ok = await isOk(url);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${label} did not become ready at ${url}`);
}

async function stop(exitCode) {
  if (isStopping) return;
  isStopping = true;
  console.log('\n[local] stopping agents, server, dmr-control, receiver and the RabbitMQ node ...');
  for (const { child } of children.reverse()) child.kill('SIGTERM');
  await Promise.all(children.map(({ child }) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : null)));
  receiver?.close();
  await rabbit?.stop();
  console.log('[local] stopped');
  process.exit(exitCode);
}

async function main() {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  console.log('[local] starting a private RabbitMQ node ...');
  rabbit = await startRabbitNode({ name: `dmrlocal-${process.pid}@localhost`, baseDir: join(workDir, 'rabbitmq') });
  const pki = await makePki();
  receiver = await startReceiver();
  const logEnv = { LOGGER_LOG_LEVELS: process.env.LOGGER_LOG_LEVELS ?? 'error,warn,log' };
  const rabbitEnv = {
    RABBITMQ_DEFAULT_HOST: '127.0.0.1',
    RABBITMQ_DEFAULT_PORT: String(rabbit.amqpPort),
    RABBITMQ_DEFAULT_USER: rabbit.user,
    RABBITMQ_DEFAULT_PASS: rabbit.password,
  };
  run('dmr-control', 'packages/control/dist/service/main.js', {
    ...logEnv,
    ...rabbitEnv,
    DMR_CONTROL_HOST: '127.0.0.1',
    DMR_CONTROL_PORT: String(ports.control),
    DMR_OPS_PORT: String(opsPorts.control),
    DMR_CONTROL_DATABASE_URL: `sqlite:${join(workDir, 'dmr-control.db')}`,
    DMR_CONTROL_CA_DIR: pki.caDir,
    DMR_TLS_CERT_FILE: pki.server.certificatePath,
    DMR_TLS_KEY_FILE: pki.server.keyPath,
    DMR_TLS_CA_FILE: pki.caCertPath,
  });
  await waitReady(`http://127.0.0.1:${opsPorts.control}/v1/ready`, 'dmr-control');
  run('dmr-server', 'packages/server/dist/main.js', {
    ...logEnv,
    PORT: String(ports.server),
    HOST: '127.0.0.1',
    DMR_OPS_PORT: String(opsPorts.server),
    // the registry and the CRL come from dmr-control; its announcements on dmr.control make the server re-read at once
    CENTOPS_CONFIGURATION_URL: `${controlUrl}/centops/configuration`,
    CENTOPS_CONFIGURATION_CA_FILE: pki.caCertPath,
    CENTOPS_CONFIGURATION_CRON_TIME: '*/10 * * * * *',
    // the agents enroll after the server starts: until then dmr-control lists none
    CENTOPS_ALLOW_EMPTY_REGISTRY: 'true',
    ...rabbitEnv,
    RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: `http://127.0.0.1:${rabbit.managementPort}`,
    DMR_TLS_CERT_FILE: pki.server.certificatePath,
    DMR_TLS_KEY_FILE: pki.server.keyPath,
    DMR_TLS_CA_FILE: pki.caCertPath,
    DMR_TLS_CRL_URL: `${controlUrl}/v1/crl`,
  });
  await waitReady(`http://127.0.0.1:${opsPorts.server}/v1/ready`, 'dmr-server');
  // the operator's part: create each agent and mint its one-time token; the agent enrolls itself at start
  const agents = [];
  for (const name of ['a', 'b'])
    agents.push(await createAgentWithToken(controlUrl, pki.caPem, pki.admin, { id: randomUUID(), name }, workDir));
  const [a, b] = agents;
  for (const [agent, port, opsPort] of [
    [a, ports.agentA, opsPorts.agentA],
    [b, ports.agentB, opsPorts.agentB],
  ]) {
    run(`dmr-agent ${agent.name}`, 'packages/agent/dist/main.js', {
      ...logEnv,
      PORT: String(port),
      HOST: '127.0.0.1',
      DMR_OPS_PORT: String(opsPort),
      AGENT_ID: agent.id,
      // enrollment (@dmr/shared/certs): the key is made into AGENT_PRIVATE_KEY_FILE, the certificate and the CA
      // bundle dmr-control answers go to DMR_TLS_CERT_FILE and DMR_TLS_CA_FILE; renewal later uses the same URL
      DMR_CONTROL_URL: controlUrl,
      DMR_CONTROL_CA_FILE: pki.caCertPath,
      DMR_ENROLLMENT_TOKEN: agent.token,
      AGENT_PRIVATE_KEY_FILE: agent.keyFile,
      DMR_SERVER_WEBSOCKET_URL: `https://127.0.0.1:${ports.server}`,
      DMR_TLS_CA_FILE: agent.caFile,
      DMR_TLS_CERT_FILE: agent.certFile,
      OUTGOING_MESSAGE_ENDPOINT: `http://127.0.0.1:${ports.receiver}/${agent.name}`,
    });
  }
  await waitReady(`http://127.0.0.1:${opsPorts.agentA}/v1/ready`, 'agent A');
  await waitReady(`http://127.0.0.1:${opsPorts.agentB}/v1/ready`, 'agent B');
  printInstructions(a, b, pki);
}

function printInstructions(a, b, pki) {
  // every id is a UUID, as POST /v1/messages requires (seed 003); the chat's messages carry its id as chatId
  const chatId = randomUUID();
  const body = {
    id: randomUUID(),
    recipientId: b.id,
    timestamp: new Date().toISOString(),
    type: 'ChatMessage',
    payload: {
      chat: { id: chatId, created: new Date().toISOString() },
      messages: [
        {
          id: randomUUID(),
          chatId,
          content: 'Hello from A',
          authorTimestamp: new Date().toISOString(),
          authorRole: 'end-user',
        },
      ],
    },
  };
  console.log(`
[local] DMR is running.
  dmr-server  https://127.0.0.1:${ports.server}  (mutual TLS for agents)
              ops http://127.0.0.1:${opsPorts.server}/v1/health, /v1/ready, /metrics (no client certificate)
  dmr-control ${controlUrl}  (admin API, mutual TLS; registry /centops/configuration, CRL /v1/crl)
              ops http://127.0.0.1:${opsPorts.control}/v1/ready; dev CA ${pki.caDir}
              admin: export DMR_CONTROL_URL=${controlUrl} DMR_CONTROL_CA_FILE=${pki.caCertPath} \\
                       DMR_CONTROL_CERT_FILE=${pki.admin.certPath} DMR_CONTROL_KEY_FILE=${pki.admin.keyPath}
              then e.g. npx dmrctl agents list; disabling or revoking an agent cuts it within seconds
  agent A     http://127.0.0.1:${ports.agentA}   id ${a.id}   ops http://127.0.0.1:${opsPorts.agentA}/metrics
  agent B     http://127.0.0.1:${ports.agentB}   id ${b.id}   ops http://127.0.0.1:${opsPorts.agentB}/metrics
  RabbitMQ    amqp 127.0.0.1:${rabbit.amqpPort}, management http://127.0.0.1:${rabbit.managementPort} (user ${rabbit.user}, password ${rabbit.password})

Send a message A -> B (paste into another terminal; give each new message a new UUID as "id", e.g. from uuidgen):

curl -i -X POST http://127.0.0.1:${ports.agentA}/v1/messages -H 'Content-Type: application/json' -d '${JSON.stringify(body)}'

The receiver prints what B delivers. Ctrl-C stops everything.`);
}

main().catch(async (error) => {
  console.error(`[local] failed: ${error.message}`);
  await stop(1);
});
