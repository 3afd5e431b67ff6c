// The policy phase (issue #19, docs/policy.md "Bench keys"): the cost of one decision of each engine at 10 000 rules,
// and the relay's P-256 saturation throughput with the built-in engine and a realistic 10 000-rule policy (every bench
// agent allowed) over the same run without a policy, in paired rounds. Two systems on their own vhosts of the bench's
// RabbitMQ node (server + two P-256 agents each, one without a policy source, one with DMR_POLICY_URL); each round
// measures both right after each other, in alternating order, so the machine's drift cancels out of the ratio.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certifyIdentities, makeIdentity, messageTemplate, writeRegistry } from './identities.mjs';
import { closedLoop, createPoster } from './load.mjs';
import { measureThroughput, pause } from './phases.mjs';
import { generateAgents, generateDocument, measureBuiltinPolicy } from './policy-builtin.mjs';
import { createBenchVhost, startAgents, startServer } from './system.mjs';

const round = (value, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * The 10 000-rule document of the built-in micro-benchmark, plus one allow rule for the bench agents (last, so every
 * rule before it is a candidate the engine's indexes must rule out). None of its deny rules names them.
 */
export function benchPolicyDocument(agentIds) {
  const document = generateDocument(generateAgents());
  document.rules.push({ id: 'bench-agents', effect: 'allow', from: { agents: agentIds }, to: { agents: agentIds } });
  return { ...document, version: 1 };
}

/**
 * The Rego engines' decision cost, from bench/lib/policy-opa.mjs (a real OPA at .tools/bin/opa, the module at
 * .tools/policy/dmr.wasm), bounded by time per engine (the sample counts are in `rego`). When OPA or the module is
 * not set up, both keys are null with the reason in `opa_error`.
 */
async function measureRegoEngines(log) {
  const modulePath = join(import.meta.dirname, 'policy-opa.mjs');
  if (!existsSync(modulePath)) {
    return { opa: null, opaWasm: null, error: 'bench/lib/policy-opa.mjs is missing' };
  }
  try {
    const { measureOpaPolicy } = await import(modulePath);
    const measured = await measureOpaPolicy();
    log(
      `  → OPA sidecar median ${measured.opaMedianUs} µs (${measured.opaSamples} decisions), opa-wasm median ${measured.opaWasmMedianUs} µs (${measured.opaWasmSamples} decisions)`,
    );
    return { opa: measured.opaMedianUs, opaWasm: measured.opaWasmMedianUs, detail: measured };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    log(`  → Rego engines not measured: ${reason}`);
    return { opa: null, opaWasm: null, error: reason };
  }
}

/** One system: a vhost, a server (with `serverEnv`), two P-256 agents A → B. */
async function startPolicySystem({ node, runDir, logDir, name, identities, registryUrl, peerCaFile, receiver, serverEnv }) {
  const vhost = `bench-policy-${name}`;
  await createBenchVhost(node, vhost);
  const server = await startServer({ name: `policy-server-${name}`, node, vhost, registryUrl, logDir, env: serverEnv });
  const agents = await startAgents({
    identities,
    serverUrl: server.url,
    endpointUrl: receiver.url,
    logDir,
    keyDir: runDir,
    env: { DMR_PEER_CA_FILE: peerCaFile },
  });
  const [from, to] = agents;
  return { name, server, agents, pair: { from, to, bodyFor: messageTemplate(to.identity.id).bodyFor } };
}

/** Saturation throughput of `system` (closed loop, `settings.throughput`); the CPU of its server and agents. */
async function saturate(system, receiver, settings, rabbitPid, tag, log) {
  const { pair, server } = system;
  const poster = createPoster(pair.from.url, 1024);
  const pids = { agentA: pair.from.pid, server: server.pid, agentB: pair.to.pid, rabbitmq: rabbitPid };
  const result = await measureThroughput({
    label: `policy-${system.name}`,
    run: tag,
    pair,
    pids,
    receiver,
    poster,
    settings: settings.throughput,
  });
  poster.close();
  log(`  → ${system.name}: ${result.msgsPerS} msg/s, statuses ${JSON.stringify(result.statuses)}, lost ${result.missing}`);
  await pause(1000);
  return result;
}

/**
 * The policy report member: `builtin_decision_median_us`, `builtin_decision_p99_us`, `opa_decision_median_us`,
 * `opa_wasm_decision_median_us`, `throughput_ratio` (median over the paired rounds of policy ÷ no policy), and the
 * rounds and details behind them.
 */
export async function measurePolicy({ node, rabbitPid, runDir: benchRunDir, logDir, receiver, settings, rounds, warmupMessages, log }) {
  // a folder of its own: the full run's earlier phases already made a CA under <runDir>/pki
  const runDir = join(benchRunDir, 'policy');
  mkdirSync(runDir, { recursive: true });
  log('policy: one built-in decision at 10 000 rules');
  const builtin = measureBuiltinPolicy();
  log(`  → median ${builtin.medianUs} µs, p99 ${builtin.p99Us} µs (parse ${builtin.parseMs} ms, compile ${builtin.compileMs} ms)`);
  log('policy: Rego engines (OPA sidecar, opa-wasm)');
  const rego = await measureRegoEngines(log);

  const identities = [
    makeIdentity('ec', 'policy-n-a'),
    makeIdentity('ec', 'policy-n-b'),
    makeIdentity('ec', 'policy-p-a'),
    makeIdentity('ec', 'policy-p-b'),
  ];
  const peerCaFile = await certifyIdentities(runDir, identities);
  const registryUrl = writeRegistry(runDir, 'policy-registry.json', identities);
  const policyFile = join(runDir, 'policy-10k.json');
  const document = benchPolicyDocument(identities.map((identity) => identity.id));
  writeFileSync(policyFile, JSON.stringify(document));
  const common = { node, runDir, logDir, registryUrl, peerCaFile, receiver };
  const serverEnv = { RABBITMQ_PREFETCH: String(settings.prefetch) };
  log(`policy: throughput without a policy vs with the built-in engine and ${document.rules.length} rules, ${rounds} paired rounds`);
  const none = await startPolicySystem({ ...common, name: 'none', identities: identities.slice(0, 2), serverEnv });
  const builtinSystem = await startPolicySystem({
    ...common,
    name: 'builtin',
    identities: identities.slice(2, 4),
    serverEnv: { ...serverEnv, DMR_POLICY_ENGINE: 'builtin', DMR_POLICY_URL: `file://${policyFile}` },
  });
  for (const system of [none, builtinSystem]) await warmUp(system, receiver, settings, warmupMessages);
  const pairs = [];
  for (let index = 0; index < rounds; index++) {
    // alternating order: a machine slowing down through a round penalises each system equally often
    const order = index % 2 === 0 ? [none, builtinSystem] : [builtinSystem, none];
    const measured = {};
    for (const system of order) measured[system.name] = await saturate(system, receiver, settings, rabbitPid, `r${index}`, log);
    pairs.push({
      noneMsgsPerS: measured.none.msgsPerS,
      builtinMsgsPerS: measured.builtin.msgsPerS,
      ratio: round(measured.builtin.msgsPerS / measured.none.msgsPerS),
      statuses: { none: measured.none.statuses, builtin: measured.builtin.statuses },
      lost: { none: measured.none.missing, builtin: measured.builtin.missing },
      serverCpuMsPerMsg: { none: measured.none.cpuMsPerMsg.server, builtin: measured.builtin.cpuMsPerMsg.server },
    });
  }
  for (const system of [builtinSystem, none]) {
    for (const agent of system.agents) await agent.stop();
    await system.server.stop();
  }
  const ratios = pairs.map((pair) => pair.ratio).sort((a, b) => a - b);
  // the median; with an even count the mean of the middle two (two rounds must not just report the lower one)
  const middle = ratios.length / 2;
  const median = ratios.length % 2 === 1 ? ratios[Math.floor(middle)] : round((ratios[middle - 1] + ratios[middle]) / 2);
  // the server's own CPU per message, policy ÷ none: on a shared machine it shows the engine's cost when throughput is noisy
  const cpuRatios = pairs
    .filter((pair) => pair.serverCpuMsPerMsg.none > 0 && pair.serverCpuMsPerMsg.builtin !== null)
    .map((pair) => pair.serverCpuMsPerMsg.builtin / pair.serverCpuMsPerMsg.none)
    .sort((a, b) => a - b);
  return {
    builtin_decision_median_us: builtin.medianUs,
    builtin_decision_p99_us: builtin.p99Us,
    opa_decision_median_us: rego.opa,
    opa_wasm_decision_median_us: rego.opaWasm,
    throughput_ratio: ratios.length > 0 ? median : null,
    server_cpu_ratio: cpuRatios.length > 0 ? round(cpuRatios[Math.floor((cpuRatios.length - 1) / 2)]) : null,
    ...(rego.error ? { opa_error: rego.error } : {}),
    builtin,
    rego: rego.detail ?? null,
    throughput_rounds: pairs,
    policy_rules: document.rules.length,
    policy_bytes: Buffer.byteLength(JSON.stringify(document)),
  };
}

/** Untimed messages through the system first, so both servers run JIT-compiled code when measured. */
async function warmUp(system, receiver, settings, count) {
  const poster = createPoster(system.pair.from.url, 1024);
  await closedLoop({
    poster,
    bodyFor: system.pair.bodyFor,
    tag: `warm-policy-${system.name}`,
    concurrency: settings.concurrency,
    warmupMs: 0,
    measureMs: 60_000,
    maxCount: count,
    receiver,
  });
  poster.close();
}
