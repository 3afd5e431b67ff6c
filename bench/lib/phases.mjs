// The DMR measurements: saturation throughput (closed loop) with CPU per message per process, open-loop latency
// at fixed rates, and 2× overload (503 rate, latency of what was accepted, nothing accepted lost).
import { closedLoop, openLoop } from './load.mjs';
import { startCpuWindow } from './proc-stats.mjs';

const round = (value, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** CPU ms per delivered message for each measured process, plus what other tenants of the machine used. */
function costPerMessage(cpu, messages) {
  const perMessage = {};
  for (const [name, ms] of Object.entries(cpu.perProcess)) perMessage[name] = messages ? round(ms / messages) : null;
  const coresBusy = cpu.machineBusyMs / cpu.wallMs;
  return { cpuMsPerMsg: perMessage, machineCoresBusy: round(coresBusy, 2), foreignCoresBusy: round(cpu.foreignMs / cpu.wallMs, 2) };
}

/** Saturation throughput A → B (delivered to B's endpoint), with the CPU cost of each hop. */
export async function measureThroughput({ label, run = 0, pair, pids, receiver, poster, settings }) {
  const cpu = startCpuWindow(pids);
  const result = await closedLoop({
    poster,
    bodyFor: pair.bodyFor,
    // ids unique across runs: agent B would rightly drop a repeated (senderId, id) as a replay
    tag: `tp-${label}-${run}`,
    concurrency: settings.concurrency,
    warmupMs: settings.warmupMs,
    measureMs: settings.measureMs,
    maxCount: settings.maxCount,
    receiver,
  });
  const window = cpu.end();
  const delivered = result.accepted - result.missing;
  return { label, ...result, msgsPerS: round(result.msgsPerS, 1), concurrency: settings.concurrency, ...costPerMessage(window, delivered) };
}

/** One open-loop run at `rate` msg/s; also records CPU so contention is visible. */
export async function measureLatency({ rate, pair, pids, receiver, poster, settings, tag }) {
  const cpu = startCpuWindow(pids);
  const result = await openLoop({
    poster,
    bodyFor: pair.bodyFor,
    tag,
    rate,
    durationMs: settings.durationMs,
    maxCount: settings.maxCount,
    receiver,
  });
  const window = cpu.end();
  const { machineCoresBusy, foreignCoresBusy } = costPerMessage(window, result.accepted);
  // cores each process used over the run: under overload, who had the CPU
  const coresByProcess = Object.fromEntries(Object.entries(window.perProcess).map(([name, ms]) => [name, round(ms / window.wallMs, 2)]));
  // a spread copies only enumerable fields: the raw samples are carried over by hand
  return Object.defineProperty({ ...result, machineCoresBusy, foreignCoresBusy, coresByProcess }, 'samples', { value: result.samples });
}

/** Lets queues drain and the machine settle between runs. */
export function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
