// HTTP load against an agent's POST /v1/messages over keep-alive connections (a light HTTP/1.1 client, see
// light-http-client.mjs), closed-loop for throughput and open-loop (fixed rate on a clock, latency from the
// scheduled time: no coordinated omission).
import { createHash } from 'node:crypto';
import { createLightHttpPool } from './light-http-client.mjs';

const idPrefixes = new Map();

/**
 * The id of message `index` of run `tag`: POST /v1/messages takes UUIDs only (seed 003), so a UUIDv8 (RFC 9562,
 * custom) made of the tag's hash and the index, unique per run and computable again when the receiver is checked.
 */
export function messageId(tag, index) {
  let prefix = idPrefixes.get(tag);
  if (prefix === undefined) {
    const hex = createHash('sha256').update(tag).digest('hex');
    prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-8${hex.slice(17, 20)}-`;
    idPrefixes.set(tag, prefix);
  }
  return `${prefix}${index.toString(16).padStart(12, '0')}`;
}

/** A keep-alive client for one agent. `post(body)` resolves `{status, retryAfter, at, socketAt}` and never rejects. */
export function createPoster(agentUrl, maxSockets) {
  const { hostname, port } = new URL(agentUrl);
  const pool = createLightHttpPool({ host: hostname, port: Number(port), maxSockets });
  return { post: (body) => pool.post('/v1/messages', body), close: () => pool.close() };
}

/** Nearest-rank percentiles (ms) of `values`, plus max and count. */
export function summarise(values) {
  if (values.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (value) => Math.round(value * 100) / 100;
  return { count: sorted.length, p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]) };
}

function countStatus(statuses, status) {
  statuses[status] = (statuses[status] ?? 0) + 1;
}

/**
 * Closed loop: `concurrency` senders post back-to-back until `warmupMs + measureMs` passed or `maxCount` were sent.
 * Throughput = messages *delivered to the receiver* during the measure window / its length.
 */
export async function closedLoop({ poster, bodyFor, tag, concurrency, warmupMs, measureMs, maxCount, receiver }) {
  const startedAt = performance.now();
  const measureFrom = startedAt + warmupMs;
  const stopAt = measureFrom + measureMs;
  const accepted = [];
  const statuses = {};
  let sent = 0;
  const worker = async () => {
    while (performance.now() < stopAt && sent < maxCount) {
      const id = messageId(tag, sent++);
      const result = await poster.post(bodyFor(id));
      countStatus(statuses, result.status);
      if (result.status === 202) accepted.push(id);
    }
  };
  const deliveredBefore = () => [...receiver.arrivals.values()].filter((at) => at >= measureFrom && at < stopAt).length;
  await Promise.all(Array.from({ length: concurrency }, worker));
  const endedAt = Math.min(performance.now(), stopAt);
  const missing = await receiver.waitFor(accepted, 15_000);
  const windowMs = Math.max(1, endedAt - measureFrom);
  return { sent, accepted: accepted.length, statuses, missing, windowMs, msgsPerS: (deliveredBefore() * 1000) / windowMs };
}

/**
 * Open loop at `rate` msg/s for `durationMs` (at most `maxCount` messages): message i is due at t0 + i/rate and is
 * sent when due whatever happened to earlier ones. Latency = receiver arrival − due time; accept latency = 202 − due time.
 */
export async function openLoop({ poster, bodyFor, tag, rate, durationMs, maxCount, receiver, drainMs = 15_000 }) {
  const count = Math.min(maxCount, Math.max(1, Math.round((rate * durationMs) / 1000)));
  const intervalMs = 1000 / rate;
  const due = new Float64Array(count);
  // when the load generator actually handed each request to its socket pool: lag behind `due` is the generator's own
  const sentAt = new Float64Array(count);
  const answers = [];
  const t0 = performance.now() + 20;
  let next = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < count && t0 + next * intervalMs <= now) {
        const index = next++;
        due[index] = t0 + index * intervalMs;
        sentAt[index] = performance.now();
        answers.push(poster.post(bodyFor(messageId(tag, index))).then((result) => ({ index, ...result })));
      }
      if (next >= count) resolve();
      else setTimeout(tick, Math.max(0, t0 + next * intervalMs - performance.now()));
    };
    tick();
  });
  const sendSpanMs = performance.now() - t0;
  const results = await Promise.all(answers);
  return collectOpenLoop({ results, due, sentAt, tag, receiver, drainMs, rate, sendSpanMs, durationMs });
}

async function collectOpenLoop({ results, due, sentAt, tag, receiver, drainMs, rate, sendSpanMs, durationMs }) {
  const statuses = {};
  const acceptLatency = [];
  const accepted = [];
  for (const result of results) {
    countStatus(statuses, result.status);
    if (result.status === 202) {
      accepted.push(result.index);
      acceptLatency.push(result.at - due[result.index]);
    }
  }
  const ids = accepted.map((index) => messageId(tag, index));
  const missing = await receiver.waitFor(ids, drainMs);
  const e2e = [];
  for (const index of accepted) {
    const at = receiver.arrivals.get(messageId(tag, index));
    if (at !== undefined) e2e.push(at - due[index]);
  }
  const refused503 = statuses[503] ?? 0;
  const sendLag = Array.from(sentAt, (at, index) => at - due[index]);
  const poolWait = results.filter((result) => result.socketAt !== undefined).map((result) => result.socketAt - sentAt[result.index]);
  const run = {
    targetRate: rate,
    achievedSendRate: Math.round((results.length * 1000) / Math.max(1, sendSpanMs)),
    plannedMs: durationMs,
    sent: results.length,
    accepted: accepted.length,
    statuses,
    rate503: results.length ? refused503 / results.length : 0,
    missing,
    latencyMs: summarise(e2e),
    acceptLatencyMs: summarise(acceptLatency),
    sendLagMs: summarise(sendLag),
    poolWaitMs: summarise(poolWait),
  };
  // the raw samples, for pooling rounds (poolOpenLoops); not enumerable, so they stay out of latest.json
  Object.defineProperty(run, 'samples', { value: { e2e, acceptLatency, sendLag, poolWait } });
  return run;
}

/**
 * One open loop made of several rounds at the same rate: counts are summed and every percentile is taken over all
 * rounds' samples together (not a median of the rounds' percentiles), so a round with a stall weighs what its
 * messages weigh. Each round's own summary is kept in `rounds`.
 */
export function poolOpenLoops(runs) {
  if (runs.length === 1) return runs[0];
  const sum = (key) => runs.reduce((total, run) => total + run[key], 0);
  const all = (key) => runs.flatMap((run) => run.samples[key]);
  const statuses = {};
  for (const run of runs) for (const [status, n] of Object.entries(run.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const sent = sum('sent');
  return {
    targetRate: runs[0].targetRate,
    achievedSendRate: Math.round(sum('achievedSendRate') / runs.length),
    plannedMs: sum('plannedMs'),
    sent,
    accepted: sum('accepted'),
    statuses,
    rate503: sent ? (statuses[503] ?? 0) / sent : 0,
    missing: sum('missing'),
    latencyMs: summarise(all('e2e')),
    acceptLatencyMs: summarise(all('acceptLatency')),
    sendLagMs: summarise(all('sendLag')),
    poolWaitMs: summarise(all('poolWait')),
    ...(runs[0].coresByProcess ? averagedCores(runs) : {}),
    rounds: runs.map((run) => ({ statuses: run.statuses, latencyMs: run.latencyMs, machineCoresBusy: run.machineCoresBusy })),
  };
}

/** Cores busy (machine, foreign, per process) averaged over rounds of equal length. */
function averagedCores(runs) {
  const mean = (values) => Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100;
  const coresByProcess = {};
  for (const name of Object.keys(runs[0].coresByProcess)) coresByProcess[name] = mean(runs.map((run) => run.coresByProcess[name]));
  return {
    machineCoresBusy: mean(runs.map((run) => run.machineCoresBusy)),
    foreignCoresBusy: mean(runs.map((run) => run.foreignCoresBusy)),
    coresByProcess,
  };
}
