// DMR benchmark: broker ceiling, DMR throughput (P-256 and RSA-2048), open-loop latency, 2× overload and scale,
// all in one run on this machine, against real processes. Normally started through `npm run bench [-- --quick]`
// (bench/run.sh builds first). Stops everything it started, also on error and Ctrl-C. See bench/README.md.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importPrivateKey, importPublicKey, sealPayload } from '@dmr/shared';
import { measureBrokerLatency, measureCeiling } from './lib/ceiling.mjs';
import { ROOT } from './lib/children.mjs';
import { installSignalHandlers, onCleanup, stopAll } from './lib/cleanup.mjs';
import { measureControl } from './lib/control.mjs';
import { measureCryptoCost, measureEcdhBackends } from './lib/crypto-cost.mjs';
import { certifyIdentities, makeIdentity, messageTemplate, writeRegistry } from './lib/identities.mjs';
import { closedLoop, createPoster, poolOpenLoops, summarise } from './lib/load.mjs';
import { measureLatency, measureThroughput, pause } from './lib/phases.mjs';
import { measurePolicy } from './lib/policy.mjs';
import { busiestProcesses, startCpuWindow } from './lib/proc-stats.mjs';
import { startReceiver } from './lib/receiver.mjs';
import { describeMachine, evaluateTargets, nextBottleneck, writeResults } from './lib/report.mjs';
import { measureScale } from './lib/scale.mjs';
import { startAgents, startRabbit, startServer } from './lib/system.mjs';

const PROFILES = {
  quick: {
    ceiling: { warmupMs: 1000, measureMs: 2500 },
    // P-256 saturation runs, each right after a short ceiling run of its own (see pairedRounds)
    pairedRounds: 1,
    pairedCeiling: { warmupMs: 500, measureMs: 2000 },
    throughput: { warmupMs: 1000, measureMs: 4000 },
    latencyMs: 3000,
    rounds80: 1,
    saturationProbe: { warmupMs: 1000, measureMs: 4000 },
    latencyRates: [100, 200, 500, 1000],
    overloadMs: 3000,
    scaleSteps: [500],
    control: { importAgents: 1000, pushWrites: 15, reads: 150, writes: 60 },
    // issue 19: paired rounds of P-256 saturation without a policy and with the built-in engine at 10 000 rules
    policyRounds: 2,
    roundTrips: 5,
    rabbitWatermark: '4GiB',
    warmupMessages: 1500,
  },
  full: {
    ceiling: { warmupMs: 2000, measureMs: 10_000 },
    throughput: { warmupMs: 3000, measureMs: 15_000 },
    pairedRounds: 3,
    pairedCeiling: { warmupMs: 1000, measureMs: 5000 },
    latencyMs: 10_000,
    rounds80: 3,
    saturationProbe: { warmupMs: 1000, measureMs: 5000 },
    latencyRates: [100, 200, 500, 1000],
    overloadMs: 10_000,
    scaleSteps: [1000, 5000],
    control: { importAgents: 1000, pushWrites: 50, reads: 500, writes: 200 },
    policyRounds: 4,
    roundTrips: 20,
    rabbitWatermark: '8GiB',
    warmupMessages: 6000,
  },
};
const WIDE_WINDOW = 1000;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-scale': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '32' },
    'max-in-flight': { type: 'string' },
    prefetch: { type: 'string', default: '100' },
    // default: bench/results (committed) for the full profile, bench/results/quick (git-ignored) for --quick, so a
    // smoke run never overwrites the committed full report
    out: { type: 'string' },
    // development aids: V8 CPU profiles of server and agents (kept in the run's log dir); partial runs that write no results
    'cpu-prof': { type: 'boolean', default: false },
    // keeps the run's logs (per-message outcome lines with their durations) after a successful run
    'keep-logs': { type: 'boolean', default: false },
    'throughput-only': { type: 'boolean', default: false },
    // open loops at these rates only (comma-separated msg/s, e.g. 2400,2400): for A/B runs of a latency row
    'latency-at': { type: 'string' },
    'scale-only': { type: 'string' },
    // only the control plane phase (issue 18): prints its report member, writes no results
    'control-only': { type: 'boolean', default: false },
    // only the policy phase (issue 19): prints its report member, writes no results
    'policy-only': { type: 'boolean', default: false },
  },
});
const profileName = args.quick ? 'quick' : 'full';
args.out ??= args.quick ? join(ROOT, 'bench', 'results', 'quick') : join(ROOT, 'bench', 'results');
const profile = PROFILES[profileName];
const T0 = performance.now();
const log = (message) => console.log(`[bench ${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${message}`);

/** A real wire message for `template` (sealed A → B): the ceiling publishes bodies of exactly its size. */
async function wireMessage(template, a, b) {
  const metadata = { id: randomUUID(), senderId: a.id, recipientId: b.id, type: 'ChatMessage', timestamp: template.sample.timestamp };
  const payload = await sealPayload(metadata, template.sample.payload, importPrivateKey(a.privatePem), importPublicKey(b.publicPem));
  return Buffer.from(JSON.stringify({ ...metadata, payload }));
}

/** The broker's own ceiling with DMR's windows, and with wide windows for context; RabbitMQ CPU per message. */
async function runCeilings(rabbit, body, settings) {
  const run = async (window, prefetch) => {
    log(`ceiling: ${body.length}-byte messages, confirm window ${window}, prefetch ${prefetch}`);
    const cpu = startCpuWindow({ rabbitmq: rabbit.pid });
    const result = await measureCeiling({
      amqpUrl: rabbit.node.amqpUrl(),
      body,
      window,
      prefetch,
      ...profile.ceiling,
      maxCount: 5_000_000,
    });
    const window_ = cpu.end();
    const perMessage = (ms) => Math.round((ms / Math.max(1, result.consumed)) * 1000) / 1000;
    log(`  → ${Math.round(result.msgsPerS)} msg/s`);
    return { ...result, cpuMsPerMsg: { rabbitmq: perMessage(window_.perProcess.rabbitmq), bench: perMessage(window_.perProcess.bench) } };
  };
  const same = await run(settings.concurrency, settings.prefetch);
  const wide = await run(WIDE_WINDOW, WIDE_WINDOW);
  log('broker latency floor at 200 msg/s (publish → confirm → consume)');
  const floor = await measureBrokerLatency({ amqpUrl: rabbit.node.amqpUrl(), body, rate: 200, durationMs: profile.latencyMs });
  const latency = { rate: floor.rate, sent: floor.count, received: floor.received, latencyMs: summarise(floor.latencies) };
  log(`  → p50 ${latency.latencyMs.p50} ms, p99 ${latency.latencyMs.p99} ms`);
  return { same, wide, latency };
}

/** CPU ms per seal and per open on this CPU, DMR's own JOSE path against jose, for both key kinds; ECDH backends. */
async function runCryptoCost(identities) {
  log('crypto cost: seal / open, DMR path vs jose');
  const template = messageTemplate(identities[1].id);
  const costs = [
    await measureCryptoCost('ec', identities.slice(0, 2), template, 400),
    await measureCryptoCost('rsa', identities.slice(2, 4), template, 200),
  ];
  for (const c of costs) {
    const reused =
      c.dmrSealReusedMs === undefined ? '' : `; ephemeral key reused: seal ${c.dmrSealReusedMs} ms, open ${c.dmrOpenReusedMs} ms`;
    log(`  → ${c.kind}: seal ${c.dmrSealMs} ms (jose ${c.joseSealMs}), open ${c.dmrOpenMs} ms (jose ${c.joseOpenMs})${reused}`);
  }
  const ecdh = await measureEcdhBackends(2000);
  log(
    `  → P-256 agreement (${ecdh.backend}): static ${ecdh.staticUs} µs, ephemeral ${ecdh.ephemeralUs} µs; node:crypto ${ecdh.nodeStaticUs} / ${ecdh.nodeEphemeralUs} µs`,
  );
  return { costs, ecdh };
}

/**
 * This machine's speed drifts by ±20 % within minutes (measured: the same closed loop at 831 and 1151 msg/s five
 * minutes apart), so one DMR run against one ceiling run minutes earlier makes a noisy ratio. The P-256 saturation
 * run is therefore repeated (`pairedRounds`), each time right after a short ceiling run with the same windows; the
 * round with the median DMR rate is the result (its CPU breakdown included), and the ratio is the median of the
 * rounds' own DMR / ceiling ratios. Every round is kept in the results.
 */
async function pairedRounds(measureDmr, ceilingProbe) {
  const rounds = [];
  for (let round = 0; round < profile.pairedRounds; round++) {
    const ceiling = ceilingProbe ? await ceilingProbe() : undefined;
    const dmr = await measureDmr(round);
    rounds.push({ dmr, ceilingMsgsPerS: ceiling ? Math.round(ceiling.msgsPerS) : null });
  }
  const byRate = [...rounds].sort((a, b) => a.dmr.msgsPerS - b.dmr.msgsPerS);
  const median = byRate[Math.floor((byRate.length - 1) / 2)];
  const ratios = rounds.filter((r) => r.ceilingMsgsPerS).map((r) => r.dmr.msgsPerS / r.ceilingMsgsPerS);
  ratios.sort((a, b) => a - b);
  return {
    ...median.dmr,
    pairedRatio: ratios.length ? Math.round(ratios[Math.floor((ratios.length - 1) / 2)] * 1000) / 1000 : null,
    rounds: rounds.map((r) => ({
      msgsPerS: r.dmr.msgsPerS,
      ceilingMsgsPerS: r.ceilingMsgsPerS,
      ratio: r.ceilingMsgsPerS ? Math.round((r.dmr.msgsPerS / r.ceilingMsgsPerS) * 1000) / 1000 : null,
      cpuMsPerMsg: r.dmr.cpuMsPerMsg,
      statuses: r.dmr.statuses,
    })),
  };
}

/** Saturation throughput for both key kinds, then latency at fixed rates and 2× overload (P-256). */
async function runDmrPhases({ rabbit, receiver, agents, server, settings, ceilingProbe }) {
  const pairs = {
    p256: { from: agents[0], to: agents[1], bodyFor: messageTemplate(agents[1].identity.id).bodyFor },
    rsa: { from: agents[2], to: agents[3], bodyFor: messageTemplate(agents[3].identity.id).bodyFor },
  };
  const pidsOf = (pair) => ({ agentA: pair.from.pid, server: server.pid, agentB: pair.to.pid, rabbitmq: rabbit.pid });
  await warmUp(pairs, receiver, settings);
  if (args['latency-at'])
    return { latency: await latencyRows(pairs.p256, pidsOf(pairs.p256), receiver, settings, args['latency-at'].split(',').map(Number)) };
  const throughput = {};
  const measureOnce = async (label, run = 0) => {
    const pair = pairs[label];
    const poster = createPoster(pair.from.url, 1024);
    log(`throughput ${label}: ${settings.concurrency} concurrent senders`);
    const t = await measureThroughput({ label, run, pair, pids: pidsOf(pair), receiver, poster, settings: settings.throughput });
    poster.close();
    log(
      `  → ${t.msgsPerS} msg/s, statuses ${JSON.stringify(t.statuses)}, lost ${t.missing}, CPU ms/msg ${JSON.stringify(t.cpuMsPerMsg)}, foreign cores ${t.foreignCoresBusy}`,
    );
    await pause(1000);
    return t;
  };
  throughput.p256 = await pairedRounds((round) => measureOnce('p256', round), ceilingProbe);
  throughput.rsa = await measureOnce('rsa');
  if (args['throughput-only']) return { throughput };
  const saturation = throughput.p256.msgsPerS;
  const latency = await latencyRows(pairs.p256, pidsOf(pairs.p256), receiver, settings, profile.latencyRates);
  const at80 = await latencyAt80(pairs.p256, pidsOf(pairs.p256), receiver, settings);
  latency.push(at80);
  const rate80 = at80.targetRate;
  const poster = createPoster(pairs.p256.from.url, 1024);
  const common = { pair: pairs.p256, pids: pidsOf(pairs.p256), receiver, poster };
  const overloadRate = Math.round(saturation * 2);
  log(`overload at ${overloadRate} msg/s (2 × saturation)`);
  const overload = await measureLatency({
    ...common,
    rate: overloadRate,
    settings: { ...settings.latency, durationMs: profile.overloadMs },
    tag: 'overload',
  });
  log(
    `  → 503 rate ${(overload.rate503 * 100).toFixed(1)} %, accepted p99 ${overload.latencyMs.p99} ms, lost ${overload.missing}; load generator's own send lag p99 ${overload.sendLagMs.p99} ms`,
  );
  poster.close();
  return { throughput, latency, overload, rate80 };
}

/** One fixed-rate open loop per entry of `rates`, in order. */
async function latencyRows(pair, pids, receiver, settings, rates) {
  const poster = createPoster(pair.from.url, 1024);
  const latency = [];
  for (const rate of rates) {
    log(`latency at ${rate} msg/s`);
    latency.push(await openLoopRow({ pair, pids, receiver, poster, rate, settings, tag: `lat${rate}-${latency.length}` }));
  }
  poster.close();
  return latency;
}

/**
 * The 80 % row: `rounds80` rounds, each a short closed-loop saturation probe and then an open loop at 80 % of what
 * that probe measured, pooled (percentiles over all the rounds' messages, each round listed in `rounds`).
 * - The probe: this kind of machine's speed drifts by 10–20 % within minutes, so 80 % of a saturation measured
 *   minutes earlier can be 90 % of the machine's capacity by the time the row runs (a run of df8f8c2: paired rounds
 *   2942 / 3143 / 2680 msg/s, the row at 80 % of the 2942 median, p99 74 ms); the probe pairs each round with the
 *   saturation of its moment, as the paired rounds do with the ceiling.
 * - The pooling: near saturation a 10 s row holds only a few stalls of tens of ms (GC, a RabbitMQ WAL roll-over,
 *   processes waiting for the 2 shared cores), and repeated 10 s rows of one build measured p99 from 20 to 50 ms.
 */
async function latencyAt80(pair, pids, receiver, settings) {
  const poster = createPoster(pair.from.url, 1024);
  const rounds = [];
  for (let round = 0; round < profile.rounds80; round++) {
    const of = profile.rounds80 > 1 ? `, round ${round + 1} of ${profile.rounds80}` : '';
    log(`saturation probe before the 80 % row${of}: ${settings.concurrency} concurrent senders`);
    const probe = await measureThroughput({
      label: 'p256-probe',
      run: round,
      pair,
      pids,
      receiver,
      poster,
      settings: { ...settings.throughput, ...profile.saturationProbe },
    });
    const rate = Math.round(probe.msgsPerS * 0.8);
    log(`  → ${probe.msgsPerS} msg/s; latency at ${rate} msg/s (80 % of it)`);
    await pause(1000);
    const run = await openLoopRow({ pair, pids, receiver, poster, rate, settings, tag: `lat80-r${round}` });
    rounds.push(Object.defineProperty({ ...run, saturationMsgsPerS: probe.msgsPerS }, 'samples', { value: run.samples }));
  }
  poster.close();
  const pooled = poolOpenLoops(rounds);
  const meanRate = Math.round(rounds.reduce((sum, run) => sum + run.targetRate, 0) / rounds.length);
  if (rounds.length > 1) log(`  → ${rounds.length} rounds pooled: p50 ${pooled.latencyMs.p50} ms, p99 ${pooled.latencyMs.p99} ms`);
  return {
    ...pooled,
    targetRate: meanRate,
    isRate80: true,
    rounds: rounds.map((run) => ({
      saturationMsgsPerS: run.saturationMsgsPerS,
      targetRate: run.targetRate,
      statuses: run.statuses,
      latencyMs: run.latencyMs,
      machineCoresBusy: run.machineCoresBusy,
    })),
  };
}

/** One open loop at `rate`, logged; 1 s pause after it. */
async function openLoopRow({ pair, pids, receiver, poster, rate, settings, tag }) {
  const run = await measureLatency({ pair, pids, receiver, poster, rate, settings: settings.latency, tag });
  log(
    `  → p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms, statuses ${JSON.stringify(run.statuses)}`,
  );
  await pause(1000);
  return run;
}

/**
 * Pushes messages through both pairs before anything is measured, so V8 has compiled the hot paths (a relay runs
 * for days; a freshly started process spends much of its first seconds in the JIT compiler).
 */
async function warmUp(pairs, receiver, settings) {
  log(`warm-up: ${profile.warmupMessages} messages per key kind (not measured)`);
  for (const [label, pair] of Object.entries(pairs)) {
    const poster = createPoster(pair.from.url, 1024);
    const count = label === 'rsa' ? profile.warmupMessages / 2 : profile.warmupMessages;
    const options = { poster, bodyFor: pair.bodyFor, tag: `warm-${label}`, concurrency: settings.concurrency, warmupMs: 0 };
    await closedLoop({ ...options, measureMs: 60_000, maxCount: count, receiver });
    poster.close();
  }
}

/** Starts receiver, server and four agents (A, B with P-256; A, B with RSA-2048) against `rabbit`. */
async function startSystem({ rabbit, runDir, logDir, identities, settings }) {
  const receiver = await startReceiver();
  onCleanup('receiver', () => receiver.close());
  const nodeArgs = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(logDir, 'prof')}`] : [];
  // development aid: extra node flags for server and agents (e.g. --perf-basic-prof for `perf`)
  nodeArgs.push(...JSON.parse(process.env.BENCH_NODE_ARGS ?? '[]'));
  const peerCaFile = await certifyIdentities(runDir, identities);
  const registryUrl = writeRegistry(runDir, 'registry.json', identities);
  const serverEnv = { RABBITMQ_PREFETCH: String(settings.prefetch) };
  const server = await startServer({ name: 'server', node: rabbit.node, vhost: '/', registryUrl, logDir, nodeArgs, env: serverEnv });
  const env = { DMR_PEER_CA_FILE: peerCaFile, ...(settings.maxInFlight ? { DMR_MAX_IN_FLIGHT_SENDS: String(settings.maxInFlight) } : {}) };
  const agents = await startAgents({ identities, serverUrl: server.url, endpointUrl: receiver.url, logDir, keyDir: runDir, env, nodeArgs });
  log(`server and ${agents.length} agents ready`);
  return { receiver, server, agents };
}

function settingsFromArgs() {
  const concurrency = Number(args.concurrency);
  return {
    concurrency,
    prefetch: Number(args.prefetch),
    maxInFlight: Number(args['max-in-flight'] ?? 0) || undefined,
    throughput: { ...profile.throughput, concurrency, maxCount: 1_000_000 },
    latency: { durationMs: profile.latencyMs, maxCount: 1_000_000 },
  };
}

async function main() {
  installSignalHandlers();
  const runDir = mkdtempSync(join(tmpdir(), 'dmr-bench-'));
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir);
  const keep = { runDir: true };
  onCleanup('run directory', () =>
    keep.runDir ? console.log(`bench: logs kept in ${logDir}`) : rmSync(runDir, { recursive: true, force: true }),
  );
  log(`profile ${profileName}; run dir ${runDir}`);
  const busyAtStart = await busiestProcesses(2000, [process.pid]);
  for (const busy of busyAtStart) log(`  busy before the run: ${busy.cores} cores, pid ${busy.pid}: ${busy.command}`);
  const rabbit = await startRabbit(runDir, profile.rabbitWatermark);
  log(`RabbitMQ ${rabbit.version} node ${rabbit.node.nodeName} up (pid ${rabbit.pid})`);
  if (args['scale-only']) {
    const steps = args['scale-only'].split(',').map(Number);
    const nodeArgs = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(logDir, 'prof')}`] : [];
    console.log(
      JSON.stringify(
        await measureScale({ node: rabbit.node, runDir, logDir, steps, roundTrips: 5, nodeArgs, rabbitPid: rabbit.pid }),
        null,
        2,
      ),
    );
    await dropScaleNode(rabbit);
    keep.runDir = Boolean(args['cpu-prof'] || args['keep-logs']);
    return;
  }
  if (args['control-only']) {
    console.log(JSON.stringify(await runControl(rabbit, runDir, logDir), null, 2));
    keep.runDir = Boolean(args['keep-logs']);
    return;
  }
  const settings = settingsFromArgs();
  if (args['policy-only']) {
    console.log(JSON.stringify(await runPolicy(rabbit, runDir, logDir, settings), null, 2));
    keep.runDir = Boolean(args['keep-logs']);
    return;
  }
  const identities = [makeIdentity('ec', 'ec-a'), makeIdentity('ec', 'ec-b'), makeIdentity('rsa', 'rsa-a'), makeIdentity('rsa', 'rsa-b')];
  const body = await wireMessage(messageTemplate(identities[1].id), identities[0], identities[1]);
  const partial = Boolean(args['throughput-only'] || args['latency-at']);
  const ceilings = partial ? undefined : await runCeilings(rabbit, body, settings);
  const crypto = partial ? undefined : await runCryptoCost(identities);
  const { receiver, server, agents } = await startSystem({ rabbit, runDir, logDir, identities, settings });
  const ceilingProbe = partial
    ? undefined
    : async () => {
        log(`paired ceiling: confirm window ${settings.concurrency}, prefetch ${settings.prefetch}`);
        const result = await measureCeiling({
          amqpUrl: rabbit.node.amqpUrl(),
          body,
          window: settings.concurrency,
          prefetch: settings.prefetch,
          ...profile.pairedCeiling,
          maxCount: 5_000_000,
        });
        log(`  → ${Math.round(result.msgsPerS)} msg/s`);
        await pause(1000);
        return result;
      };
  const dmr = await runDmrPhases({ rabbit, receiver, agents, server, settings, ceilingProbe });
  for (const agent of agents) await agent.stop();
  await server.stop();
  if (partial) {
    keep.runDir = Boolean(args['cpu-prof'] || args['keep-logs']);
    return;
  }
  // before the scale step, which ends with the RabbitMQ node killed
  const policy = await runPolicy(rabbit, runDir, logDir, settings);
  const control = await runControl(rabbit, runDir, logDir);
  let scale = { rows: [], registryAgents: 0 };
  if (!args['no-scale']) {
    log(`scale: ${profile.scaleSteps.join(' then ')} agents on one server`);
    // a failed scale step must not throw away the measurements before it: it is reported as such
    scale = await measureScale({
      node: rabbit.node,
      runDir,
      logDir,
      steps: profile.scaleSteps,
      roundTrips: profile.roundTrips,
      rabbitPid: rabbit.pid,
    }).catch((error) => ({
      rows: [],
      registryAgents: Math.max(...profile.scaleSteps),
      error: error instanceof Error ? error.message.split('\n')[0] : String(error),
    }));
    await dropScaleNode(rabbit);
    if (scale.error) log(`  → scale failed: ${scale.error}`);
    for (const row of scale.rows) {
      log(
        `  → ${row.connected}/${row.agents} connected in ${row.connectMs} ms, ${row.serverRssKibPerAgent} KiB/agent, round trip p50 ${row.roundTripMs.p50} ms`,
      );
    }
  }
  writeResults(args.out, assemble({ rabbit, ceilings, crypto, dmr, scale, control, policy, settings, body, busyAtStart }));
  log(`wrote ${join(args.out, 'latest.json')} and latest.md`);
  keep.runDir = Boolean(args['cpu-prof'] || args['keep-logs']);
}

/**
 * Takes the RabbitMQ node down the way a crash would once it carries the scale step's quorum queues (two per agent):
 * a graceful `rabbitmqctl stop` of 10 000 of them took over 2 minutes and then ran into the test kit's stop timeout,
 * and the node's data goes with the run directory anyway. The cleanup's stop then finds the node down.
 */
/** The control plane phase on its own vhost; a failure is reported in `control.error`, never loses the run. */
async function runControl(rabbit, runDir, logDir) {
  log(`control: dmr-control (SQLite) + 3 servers with push; import ${profile.control.importAgents} agents`);
  return measureControl({ node: rabbit.node, runDir, logDir, counts: profile.control, log }).catch((error) => {
    log(`  → control failed: ${error instanceof Error ? error.message : String(error)}`);
    return { error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  });
}

/**
 * The policy phase (issue 19) on vhosts of its own, with its own receiver; a failure is reported in `policy.error` with
 * every key null, never loses the run.
 */
async function runPolicy(rabbit, runDir, logDir, settings) {
  const receiver = await startReceiver();
  const closeReceiver = onCleanup('policy receiver', () => receiver.close());
  const options = { node: rabbit.node, rabbitPid: rabbit.pid, runDir, logDir, receiver, settings, log };
  try {
    return await measurePolicy({ ...options, rounds: profile.policyRounds, warmupMessages: profile.warmupMessages });
  } catch (error) {
    log(`  → policy failed: ${error instanceof Error ? error.message : String(error)}`);
    const keys = ['builtin_decision_median_us', 'builtin_decision_p99_us', 'opa_decision_median_us', 'opa_wasm_decision_median_us'];
    return {
      ...Object.fromEntries([...keys, 'throughput_ratio'].map((key) => [key, null])),
      error: error instanceof Error ? error.message.split('\n')[0] : String(error),
    };
  } finally {
    await closeReceiver();
  }
}

async function dropScaleNode(rabbit) {
  log(`stopping RabbitMQ node ${rabbit.node.nodeName} with SIGKILL (its scale-step queues would take minutes to stop)`);
  await rabbit.node.kill();
}

function assemble({ rabbit, ceilings, crypto, dmr, scale, control, policy, settings, body, busyAtStart }) {
  const at = (rate) => dmr.latency.find((run) => run.targetRate === rate)?.latencyMs.p99 ?? null;
  const biggest = scale.rows[scale.rows.length - 1];
  const ratio = (value) => Math.round((value / ceilings.same.msgsPerS) * 1000) / 1000;
  const results = {
    profile: profileName,
    started_at: new Date(Date.now() - (performance.now() - T0)).toISOString(),
    duration_s: Math.round((performance.now() - T0) / 1000),
    machine: { ...describeMachine(rabbit), busiest_processes_at_start: busyAtStart },
    ceiling_msgs_per_s: Math.round(ceilings.same.msgsPerS),
    ceiling_wide_window_msgs_per_s: Math.round(ceilings.wide.msgsPerS),
    dmr_p256_msgs_per_s: Math.round(dmr.throughput.p256.msgsPerS),
    dmr_rsa_msgs_per_s: Math.round(dmr.throughput.rsa.msgsPerS),
    // the median of DMR / ceiling over the paired rounds (each DMR run right after its own ceiling run)
    ratio_p256: dmr.throughput.p256.pairedRatio ?? ratio(dmr.throughput.p256.msgsPerS),
    ratio_p256_standalone_ceiling: ratio(dmr.throughput.p256.msgsPerS),
    ratio_rsa: ratio(dmr.throughput.rsa.msgsPerS),
    p99_ms_at_200: at(200),
    p99_ms_at_80pct: dmr.latency.find((run) => run.isRate80)?.latencyMs.p99 ?? null,
    rate_80pct: dmr.rate80,
    agents_connected: biggest?.connected ?? 0,
    server_rss_kib_per_agent: biggest?.serverRssKibPerAgent ?? null,
    overload_503_rate: Math.round(dmr.overload.rate503 * 1000) / 1000,
    overload_accepted_p99_ms: dmr.overload.latencyMs.p99,
    ceiling: ceilings.same,
    ceiling_wide: ceilings.wide,
    broker_latency_at_200: ceilings.latency,
    broker_p99_ms_at_200: ceilings.latency.latencyMs.p99,
    crypto_cost: crypto?.costs,
    ecdh_backend: crypto?.ecdh,
    throughput: dmr.throughput,
    latency: dmr.latency,
    overload: dmr.overload,
    scale,
    control,
    policy,
    settings: {
      concurrentSenders: settings.concurrency,
      serverPrefetch: settings.prefetch,
      agentMaxInFlightSends: settings.maxInFlight ?? 'default',
      wireMessageBytes: body.length,
      profile,
    },
    notes: [
      'The bench RabbitMQ node runs with channel_max = 16000 (dmr-server opens one consumer channel per connected agent, and RabbitMQ’s default 2047 would cap one instance at ~2046 agents), management_agent.disable_metrics_collector = true and management.rates_mode = none (management statistics on 10 000 quorum queues and thousands of consumer channels would load the broker more than the relay does; the rabbitmq_prometheus plugin monitors, as docs/operations.md recommends).',
    ],
  };
  results.targets = evaluateTargets(results);
  results.next_bottleneck = nextBottleneck(results);
  return results;
}

process.on('uncaughtException', (error) => {
  console.error(`bench: uncaught ${error.stack ?? error}`);
  void stopAll().finally(() => process.exit(1));
});
try {
  await main();
  await stopAll();
  log('done; everything stopped');
  process.exit(0);
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await stopAll();
  process.exit(1);
}
