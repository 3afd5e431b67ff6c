// Starts the system under test: a private RabbitMQ node (management on, so the server applies its policies),
// dmr-server and dmr-agent processes. Everything registers its stop with the cleanup stack.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basicAuthHeader, findFreePorts, managementApiBaseFor, managementBaseFor, startRabbitNode } from '@dmr/testkit';
import { AGENT_BIN, launch, SERVER_BIN, waitHttpOk } from './children.mjs';
import { onCleanup } from './cleanup.mjs';
import { writeKeyFile } from './identities.mjs';

/**
 * Starts a private node named `dmrbench-<hex>@localhost` in `<runDir>/rabbit`. `channel_max` is raised because the
 * server opens one consumer channel per connected agent and RabbitMQ's default (2047) would cap the scale test;
 * the management plugin's metrics collector is off (the API, which the server's policies need, stays on; monitoring is
 * rabbitmq_prometheus's, as docs/operations.md recommends for production).
 */
export async function startRabbit(runDir, memoryHighWatermark) {
  const baseDir = join(runDir, 'rabbit');
  mkdirSync(join(baseDir, 'conf.d'), { recursive: true });
  // management statistics on 10 000 queues and thousands of channels would cost the broker more than the relay does:
  // the collector costs ~0.3 ms of broker CPU per consumer channel opened (issue 17's reconnect storm; measured with
  // bench/probes/consumer-ops-cost.mjs), and the production recommendation is the same (docs/operations.md)
  writeFileSync(
    join(baseDir, 'conf.d', '90-bench.conf'),
    'channel_max = 16000\nmanagement_agent.disable_metrics_collector = true\nmanagement.rates_mode = none\n',
  );
  const name = `dmrbench-${randomBytes(4).toString('hex')}`;
  const starting = startRabbitNode({ name, baseDir, memoryHighWatermark });
  // registered before the node is up, so a Ctrl-C during its boot still stops it once it is
  onCleanup(`RabbitMQ node ${name}`, async () => (await starting.catch(() => undefined))?.stop());
  const node = await starting;
  const pid = Number(readFileSync(join(baseDir, 'rabbitmq.pid'), 'utf8').trim());
  const overview = await managementGet(node, '/overview');
  return { node, pid, version: overview.rabbitmq_version, erlang: overview.erlang_version };
}

/** GET on the node's management API. */
export async function managementGet(node, path) {
  const response = await fetch(`${managementApiBaseFor(node)}${path}`, { headers: { authorization: basicAuthHeader(node) } });
  if (!response.ok) throw new Error(`management GET ${path}: HTTP ${response.status}`);
  return response.json();
}

/** Creates vhost `name` with full permissions for the node's user. */
export async function createBenchVhost(node, name) {
  const headers = { authorization: basicAuthHeader(node), 'content-type': 'application/json' };
  const base = managementApiBaseFor(node);
  const put = async (path, body) => {
    const response = await fetch(`${base}${path}`, { method: 'PUT', headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`management PUT ${path}: HTTP ${response.status}`);
  };
  await put(`/vhosts/${encodeURIComponent(name)}`, {});
  await put(`/permissions/${encodeURIComponent(name)}/${encodeURIComponent(node.user)}`, { configure: '.*', write: '.*', read: '.*' });
}

/** Launches dmr-server against `vhost` and the registry at `registryUrl`; resolves once /v1/ready answers 200. */
export async function startServer({ name, node, vhost, registryUrl, logDir, env = {}, readyTimeoutMs = 60_000, nodeArgs = [] }) {
  const [port] = await findFreePorts(1);
  const proc = launch(
    name,
    SERVER_BIN,
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      CENTOPS_CONFIGURATION_URL: registryUrl,
      RABBITMQ_DEFAULT_HOST: '127.0.0.1',
      RABBITMQ_DEFAULT_PORT: String(node.amqpPort),
      RABBITMQ_DEFAULT_VHOST: vhost,
      RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: managementBaseFor(node),
      RABBITMQ_DEFAULT_USER: node.user,
      RABBITMQ_DEFAULT_PASS: node.password,
      // agents and server talk plain HTTP/WS on loopback here (TLS would be terminated at an ingress in production)
      DMR_ALLOW_PLAINTEXT: 'true',
      DMR_SHUTDOWN_TIMEOUT_MS: '3000',
      ...env,
    },
    logDir,
    { nodeArgs },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk(proc, `${url}/v1/ready`, readyTimeoutMs);
  return { ...proc, url };
}

/** Launches one dmr-agent per identity (keys in 0600 files under `keyDir`); resolves once each is ready. */
export async function startAgents({ identities, serverUrl, endpointUrl, logDir, keyDir, env = {}, nodeArgs = [] }) {
  const ports = await findFreePorts(identities.length);
  const agents = identities.map((identity, index) =>
    launch(
      `agent-${identity.kind}-${index}`,
      AGENT_BIN,
      {
        PORT: String(ports[index]),
        HOST: '127.0.0.1',
        AGENT_ID: identity.id,
        AGENT_PRIVATE_KEY_FILE: writeKeyFile(keyDir, identity),
        DMR_SERVER_WEBSOCKET_URL: serverUrl,
        OUTGOING_MESSAGE_ENDPOINT: endpointUrl,
        DMR_ALLOW_PLAINTEXT: 'true',
        DMR_SHUTDOWN_TIMEOUT_MS: '3000',
        ...env,
      },
      logDir,
      { nodeArgs },
    ),
  );
  const running = agents.map((proc, index) => ({ ...proc, identity: identities[index], url: `http://127.0.0.1:${ports[index]}` }));
  await Promise.all(running.map((agent) => waitHttpOk(agent, `${agent.url}/v1/ready`, 30_000)));
  return running;
}
