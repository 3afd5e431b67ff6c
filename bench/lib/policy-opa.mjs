// Micro-benchmark of the two Rego engines (issue #19, docs/policy.md "Bench keys"): `policy.opa_decision_median_us`
// (the `opa` engine's round trip to a real OPA server over a keep-alive connection, decision cache OFF) and
// `policy.opa_wasm_decision_median_us` (the `opa-wasm` engine evaluating deploy/policy/dmr.rego built to wasm), on
// the same 10 000-rule document the built-in engine's bench uses (bench/lib/policy-builtin.mjs). Both go through
// the engines of @dmr/server, so the numbers include what the server pays (input JSON, result checks).
// `node bench/lib/policy-opa.mjs` prints the numbers; needs set-up's .tools/bin/opa and .tools/policy/dmr.wasm.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOpaSidecarEngine, createOpaWasmEngine } from '@dmr/server';
import { buildRegoIndex, parsePolicyDocument, policyTime } from '@dmr/shared/policy';
import { generateAgents, generateDocument } from './policy-builtin.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const VERSION = 1;

function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** `opa run --server` with the shipped Rego on a free 127.0.0.1 port, healthy; returns {url, stop}. */
async function startOpa(opaBin) {
  const port = await freePort();
  const child = spawn(
    opaBin,
    [
      'run',
      '--server',
      '--optimize-store-for-read-speed',
      '--addr',
      `127.0.0.1:${port}`,
      '--log-level',
      'error',
      join(root, 'deploy/policy/dmr.rego'),
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while ((await fetch(`${url}/health`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('OPA did not start');
    await new Promise((done) => setTimeout(done, 100));
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  };
  return { url, stop };
}

function summary(samplesUs) {
  const sorted = Array.from(samplesUs).sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
  const round = (value) => Math.round(value * 10) / 10;
  return { medianUs: round(at(50)), p99Us: round(at(99)) };
}

/**
 * Times up to `samples` calls of `decide(i)` after up to `warmup` untimed ones, one decision per sample (µs), within
 * `budgetMs` in all (warm-up takes at most a fifth of it): a slow engine (a Rego evaluation at 10 000 rules can take
 * ~0.4 s) yields fewer samples, never a hung bench. Returns the summary with `count`, the decisions timed.
 */
async function timeDecisions(decide, samples, warmup, budgetMs) {
  const startedMs = performance.now();
  for (let i = 0; i < warmup && performance.now() - startedMs < budgetMs / 5; i++) await decide(i);
  const perDecisionUs = [];
  for (let i = 0; i < samples && performance.now() - startedMs < budgetMs; i++) {
    const t0 = process.hrtime.bigint();
    await decide(i);
    perDecisionUs.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  if (perDecisionUs.length === 0) throw new Error(`no decision timed within ${budgetMs} ms`);
  return { ...summary(perDecisionUs), count: perDecisionUs.length };
}

/**
 * Measures both Rego engines on the built-in bench's generated 10 000-rule document and registry. Returns
 * {opaMedianUs, opaP99Us, opaWasmMedianUs, opaWasmP99Us, rules, opaLoadMs, wasmLoadMs, samples, opaSamples,
 * opaWasmSamples, budgetMsPerEngine}: `samples` is the most asked for, `opaSamples`/`opaWasmSamples` the decisions
 * actually timed within `budgetMsPerEngine` (default 10 s per engine, warm-up included).
 * `opaBin` defaults to set-up's .tools/bin/opa, `wasmFile` to .tools/policy/dmr.wasm.
 */
export async function measureOpaPolicy({
  opaBin = join(root, '.tools/bin/opa'),
  wasmFile = join(root, '.tools/policy/dmr.wasm'),
  samples = 400,
  warmup = 40,
  budgetMsPerEngine = 10_000,
} = {}) {
  const agents = generateAgents();
  const document = generateDocument(agents);
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) throw new Error(`generated policy refused: ${parsed.field}: ${parsed.message}`);
  const random = seededRandom(3);
  const baseMs = Date.now();
  const inputs = Array.from({ length: 1024 }, (_, i) => {
    const sender = agents[Math.floor(random() * agents.length)];
    return {
      sender: { ...sender, certificate: { subject: `CN=${sender.id}`, serial: '01' } },
      recipient: agents[Math.floor(random() * agents.length)],
      message: { type: ['ChatMessage', 'Report', 'Ping', 'Alert'][Math.floor(random() * 4)] },
      time: policyTime(baseMs + i * 60_000, document.timeZone),
    };
  });

  const wasm = await createOpaWasmEngine({ wasmFile });
  let started = process.hrtime.bigint();
  await wasm.load({ version: VERSION, document });
  const wasmLoadMs = Number(process.hrtime.bigint() - started) / 1e6;
  const inWasm = await timeDecisions((i) => wasm.decide(inputs[i & 1023]), samples, warmup, budgetMsPerEngine);
  await wasm.close();

  const opa = await startOpa(opaBin);
  const sidecar = createOpaSidecarEngine({ url: opa.url, timeoutMs: 60_000, cacheSize: 0 });
  try {
    started = process.hrtime.bigint();
    const put = await fetch(`${opa.url}/v1/data/dmr`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ policy: document, policyVersion: VERSION, index: buildRegoIndex(parsed.document) }),
    });
    if (put.status !== 204) throw new Error(`PUT /v1/data/dmr: ${put.status}`);
    const opaLoadMs = Number(process.hrtime.bigint() - started) / 1e6;
    const viaOpa = await timeDecisions((i) => sidecar.decide(inputs[i & 1023]), samples, warmup, budgetMsPerEngine);
    return {
      opaMedianUs: viaOpa.medianUs,
      opaP99Us: viaOpa.p99Us,
      opaWasmMedianUs: inWasm.medianUs,
      opaWasmP99Us: inWasm.p99Us,
      rules: document.rules.length,
      opaLoadMs: Math.round(opaLoadMs),
      wasmLoadMs: Math.round(wasmLoadMs),
      samples,
      opaSamples: viaOpa.count,
      opaWasmSamples: inWasm.count,
      budgetMsPerEngine,
    };
  } finally {
    await sidecar.close();
    await opa.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await measureOpaPolicy())}\n`);
}
