// Scale: K light agents connected to ONE dmr-server process whose registry lists them all. Reports the server's
// RSS per connected agent (RSS with K connected − RSS with the registry loaded and nobody connected, / K), the time
// to connect them all, and ping/pong round trips between two of them while all are connected.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './children.mjs';
import { makeIdentity, writeRegistry } from './identities.mjs';
import { summarise } from './load.mjs';
import { pause } from './phases.mjs';
import { cpuMsOf, rssKibOf } from './proc-stats.mjs';
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
export async function measureScale({ node, runDir, logDir, steps, roundTrips }) {
  const total = Math.max(...steps);
  const keyStart = performance.now();
  const identities = Array.from({ length: total }, () => makeIdentity('ec', 'sim'));
  const keygenMs = performance.now() - keyStart;
  const identitiesFile = join(runDir, 'sim-identities.json');
  writeFileSync(identitiesFile, JSON.stringify(identities));
  await createBenchVhost(node, 'bench-scale');
  const registryUrl = writeRegistry(runDir, 'scale-registry.json', identities);
  const startedAt = performance.now();
  const server = await startServer({ name: 'server-scale', node, vhost: 'bench-scale', registryUrl, logDir, readyTimeoutMs: 600_000 });
  const serverReadyMs = performance.now() - startedAt;
  const baseRss = await settledRss(server.pid, 3000);
  const baseMemory = await serverMemory(server.url);
  const sim = await startSimulator({ serverUrl: server.url, identitiesFile, logDir });
  const rows = [];
  let connectedSoFar = 0;
  for (const count of steps) {
    const cpuBefore = cpuMsOf(server.pid) ?? 0;
    const connect = await sim.call('connect', { from: connectedSoFar, to: count, concurrency: CONNECT_CONCURRENCY });
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
      fullListBytesEach: connect.fullLists ? Math.round(connect.fullListBytes / connect.fullLists) : null,
      roundTripMs: trips.times ? summarise(trips.times) : { error: trips.error },
    });
  }
  await sim.call('close').catch(() => undefined);
  await sim.stop();
  await server.stop();
  return { rows, keygenMs: Math.round(keygenMs), serverReadyMs: Math.round(serverReadyMs), registryAgents: total };
}
