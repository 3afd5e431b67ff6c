// Scale: K light agents connected to ONE dmr-server process whose registry lists them all, each with a certificate
// from the run's CA (as dmrctl issues them). Reports the server's RSS per connected agent (RSS with K connected − RSS
// with the registry loaded and nobody connected, / K), the time to connect them all, ping/pong round trips between two
// of them while all are connected, and two reconnect storms of all K (a failover): agents that hold the current
// versioned list (they get nothing), and seed 003-style agents (the whole list each).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentListVersion } from '@dmr/shared';
import { launch } from './children.mjs';
import { certifyManyIdentities, makeIdentity, writeRegistry } from './identities.mjs';
import { summarise } from './load.mjs';
import { pause } from './phases.mjs';
import { cpuMsOf, rssKibOf, startCpuWindow } from './proc-stats.mjs';
import { createBenchVhost, startServer } from './system.mjs';

const SIM_SCRIPT = join(import.meta.dirname, 'agent-sim.mjs');
/** Handshakes in progress at once: a reconnect wave spread by the agents' backoff jitter, not one burst. */
const CONNECT_CONCURRENCY = 20;

/** Starts the simulator child and returns `call(cmd, args)` over IPC. */
async function startSimulator({ serverUrl, identitiesFile, logDir }) {
  const proc = launch('agent-sim', SIM_SCRIPT, { SIM_SERVER_URL: serverUrl, SIM_IDENTITIES_FILE: identitiesFile }, logDir, {
    nodeArgs: ['--max-old-space-size=4096'],
    ipc: true,
  });
  await new Promise((resolve, reject) => {
    proc.child.once('message', resolve);
    void proc.exited.then(() => reject(new Error('agent simulator exited before it was ready')));
  });
  let nextId = 0;
  const pending = new Map();
  proc.child.on('message', (reply) => {
    const settle = pending.get(reply.id);
    pending.delete(reply.id);
    if (settle) settle(reply);
  });
  const call = (cmd, args = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => (reply.ok ? resolve(reply.result) : reject(new Error(`simulator ${cmd}: ${reply.error}`))));
      proc.child.send({ id, cmd, ...args });
    });
  return { ...proc, call };
}

/** Heap and external memory of the server from its own /metrics (prom-client default metrics), in KiB. */
async function serverMemory(url) {
  const text = await fetch(`${url}/metrics`)
    .then((response) => response.text())
    .catch(() => '');
  const read = (name) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return match ? Math.round(Number(match[1]) / 1024) : null;
  };
  return {
    heapUsedKib: read('nodejs_heap_size_used_bytes'),
    heapTotalKib: read('nodejs_heap_size_total_bytes'),
    externalKib: read('nodejs_external_memory_bytes'),
  };
}

/** Settles, then samples the server's RSS a few times and keeps the lowest (GC timing makes single samples noisy). */
async function settledRss(pid, settleMs) {
  await pause(settleMs);
  const samples = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssKibOf(pid) ?? 0);
    await pause(200);
  }
  return Math.min(...samples);
}

/** Runs the scale steps (`steps` = ascending agent counts) on a fresh server; returns one row per step. */
export async function measureScale({ node, runDir, logDir, steps, roundTrips, nodeArgs = [], rabbitPid }) {
  const total = Math.max(...steps);
  const keyStart = performance.now();
  const identities = Array.from({ length: total }, () => makeIdentity('ec', 'sim'));
  const keygenMs = performance.now() - keyStart;
  const certStart = performance.now();
  await certifyManyIdentities(runDir, identities);
  const certifyMs = performance.now() - certStart;
  const identitiesFile = join(runDir, 'sim-identities.json');
  writeFileSync(identitiesFile, JSON.stringify(identities));
  await createBenchVhost(node, 'bench-scale');
  const registryUrl = writeRegistry(runDir, 'scale-registry.json', identities);
  const heldVersion = listVersionOf(registryUrl);
  const startedAt = performance.now();
  const server = await startServer({
    name: 'server-scale',
    node,
    vhost: 'bench-scale',
    registryUrl,
    logDir,
    readyTimeoutMs: 600_000,
    nodeArgs,
  });
  const serverReadyMs = performance.now() - startedAt;
  const baseRss = await settledRss(server.pid, 3000);
  const baseMemory = await serverMemory(server.url);
  const sim = await startSimulator({ serverUrl: server.url, identitiesFile, logDir });
  const rows = [];
  let connectedSoFar = 0;
  for (const count of steps) {
    const cpuBefore = cpuMsOf(server.pid) ?? 0;
    // the agents announce the registry's list version, as after a failover: every full list is measured by the storm below
    const connect = await sim.call('connect', {
      from: connectedSoFar,
      to: count,
      concurrency: CONNECT_CONCURRENCY,
      mode: 'versioned',
      heldVersion,
    });
    const serverCpuMs = (cpuMsOf(server.pid) ?? 0) - cpuBefore;
    connectedSoFar = count;
    const rss = await settledRss(server.pid, 3000);
    const memory = await serverMemory(server.url);
    const perAgent = (key) =>
      memory[key] !== null && baseMemory[key] !== null
        ? Math.round(((memory[key] - baseMemory[key]) / Math.max(1, connect.connected)) * 10) / 10
        : null;
    const trips = await sim
      .call('roundTrips', { a: 0, b: count - 1, count: roundTrips, tag: `scale${count}` })
      .catch((error) => ({ error: error.message }));
    rows.push({
      agents: count,
      connected: connect.connected,
      failed: connect.failed,
      firstError: connect.firstError,
      connectMs: Math.round(connect.ms),
      serverCpuMsForConnects: Math.round(serverCpuMs),
      serverRssKib: rss,
      serverBaseRssKib: baseRss,
      serverRssKibPerAgent: connect.connected ? Math.round(((rss - baseRss) / connect.connected) * 10) / 10 : null,
      serverHeapUsedKibPerAgent: perAgent('heapUsedKib'),
      serverExternalKibPerAgent: perAgent('externalKib'),
      serverMemory: { base: baseMemory, connected: memory },
      listBytesPerConnect: connect.connected ? Math.round(connect.listBytes / connect.connected) : null,
      roundTripMs: trips.times ? summarise(trips.times) : { error: trips.error },
    });
  }
  const storms = await measureReconnectStorms(sim, server, connectedSoFar, heldVersion, rabbitPid);
  await sim.call('close').catch(() => undefined);
  await sim.stop();
  await server.stop();
  return {
    rows,
    keygenMs: Math.round(keygenMs),
    certifyMs: Math.round(certifyMs),
    serverReadyMs: Math.round(serverReadyMs),
    registryAgents: total,
    registryBytes: registryBytes(registryUrl),
    reconnect: storms,
    ...stableKeys(storms),
  };
}

/**
 * The keys later tools read (bench/README.md): the 5000-agent reconnect storms with versioned lists and with the
 * full list, and the list bytes an up-to-date agent and a seed 003 agent get per connect. Null when K ≠ 5000.
 */
function stableKeys(storms) {
  const at5000 = storms.agents === 5000;
  const seconds = (ms) => (at5000 && ms !== null ? Math.round(ms / 100) / 10 : null);
  return {
    connect_5000_s: seconds(storms.versioned?.connectMs ?? null),
    connect_5000_full_list_s: seconds(storms.fullList?.connectMs ?? null),
    list_bytes_per_reconnect: storms.versioned?.listBytesPerAgent ?? null,
    list_bytes_full: storms.fullList?.listBytesPerAgent ?? null,
  };
}

/** The agent list version a server derives from the registry document at `registryUrl` (see `agentListVersion`). */
function listVersionOf(registryUrl) {
  const { response } = JSON.parse(readFileSync(new URL(registryUrl), 'utf8'));
  return agentListVersion(
    response.map((entry) => ({
      id: entry.id,
      name: entry.name,
      authenticationCertificate: entry.authentication_certificate,
      createdAt: entry.created_at,
      updatedAt: entry.updated_at,
    })),
  );
}

function registryBytes(registryUrl) {
  return statSync(new URL(registryUrl)).size;
}

/**
 * Drops all `count` agents, waits until the server has let every session go, and connects them all again, twice:
 * first as dmr-agents holding the current list version `heldVersion` (the delta protocol: nothing to send), then as
 * seed 003 agents (the whole list each). Each storm: time to connect all, list events and bytes received, server CPU.
 */
async function measureReconnectStorms(sim, server, count, heldVersion, rabbitPid) {
  const storm = async (mode) => {
    await sim.call('close');
    await waitForNoConnections(server.url);
    const cpuBefore = cpuMsOf(server.pid) ?? 0;
    const window = startCpuWindow({ server: server.pid, simulator: sim.pid, ...(rabbitPid ? { rabbitmq: rabbitPid } : {}) });
    const result = await sim.call('connect', { from: 0, to: count, concurrency: CONNECT_CONCURRENCY, mode, heldVersion });
    const cpu = window.end();
    const perConnect = (ms) => Math.round((ms / Math.max(1, result.connected)) * 100) / 100;
    return {
      connected: result.connected,
      failed: result.failed,
      firstError: result.firstError,
      connectMs: Math.round(result.ms),
      serverCpuMsPerConnect: Math.round((((cpuMsOf(server.pid) ?? 0) - cpuBefore) / Math.max(1, result.connected)) * 100) / 100,
      cpuMsPerConnect: Object.fromEntries(Object.entries(cpu.perProcess).map(([name, ms]) => [name, perConnect(ms)])),
      foreignCores: Math.round((cpu.foreignMs / Math.max(1, cpu.wallMs)) * 100) / 100,
      listEvents: result.listEvents,
      listBytes: result.listBytes,
      listBytesPerAgent: Math.round(result.listBytes / Math.max(1, result.connected)),
      versionsHeld: result.versionsHeld,
    };
  };
  const versioned = await storm('versioned').catch((error) => ({ error: error.message }));
  const fullList =
    process.env.BENCH_SCALE_SKIP_FULL_LIST === 'true' ? null : await storm('legacy').catch((error) => ({ error: error.message }));
  return { agents: count, concurrency: CONNECT_CONCURRENCY, versioned, fullList };
}

/** Polls the server's `dmr_socket_connections_active` until it reads 0 (bounded). */
async function waitForNoConnections(url, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await fetch(`${url}/metrics`)
      .then((response) => response.text())
      .catch(() => '');
    const match = /^dmr_socket_connections_active(?:\{[^}]*\})? (\S+)$/m.exec(text);
    if (match && Number(match[1]) === 0) return;
    await pause(250);
  }
  throw new Error(`the server still had agents connected ${timeoutMs} ms after they all disconnected`);
}
