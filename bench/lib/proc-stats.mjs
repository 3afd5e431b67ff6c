// Per-process CPU and memory from /proc (Linux): utime+stime of /proc/<pid>/stat and VmRSS of /proc/<pid>/status,
// plus machine-wide busy time from /proc/stat, so a phase can say how much CPU other tenants took meanwhile.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times (`getconf CLK_TCK`, 100 on every Linux we run on). */
const CLK_TCK = 100;

/** CPU time (user+system) of `pid` in ms, or undefined once the process is gone. */
export function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may contain spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Resident set size of `pid` in KiB, or undefined once the process is gone. */
export function rssKibOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Machine-wide CPU time in ms: busy (everything but idle and iowait) and total, summed over all cores. */
export function machineCpuMs() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const ticks = values.map(Number);
  const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busyMs: ((total - idle) * 1000) / CLK_TCK, totalMs: (total * 1000) / CLK_TCK };
}

/**
 * Starts a CPU window over named processes (`{name: pid}`; the bench's own process is measured with
 * `process.cpuUsage`). `end()` returns CPU ms per process, the machine's busy ms, and what other tenants used.
 */
export function startCpuWindow(pids) {
  const startedAt = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMsOf(pid) ?? 0]));
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpuMs();
  return {
    end() {
      const wallMs = performance.now() - startedAt;
      const perProcess = {};
      for (const [name, pid] of Object.entries(pids)) perProcess[name] = (cpuMsOf(pid) ?? before[name]) - before[name];
      const self = process.cpuUsage(selfBefore);
      perProcess.bench = (self.user + self.system) / 1000;
      const machine = machineCpuMs();
      const busyMs = machine.busyMs - machineBefore.busyMs;
      const ours = Object.values(perProcess).reduce((sum, value) => sum + value, 0);
      return { wallMs, perProcess, machineBusyMs: busyMs, foreignMs: Math.max(0, busyMs - ours) };
    },
  };
}

/**
 * The processes (other than `excludePids`) that used the most CPU over `windowMs`, as `{pid, command, cores}`:
 * who else is busy on the machine while the bench runs.
 */
export async function busiestProcesses(windowMs, excludePids = [], count = 3) {
  const sample = () => {
    const times = new Map();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || excludePids.includes(Number(entry))) continue;
      const ms = cpuMsOf(entry);
      if (ms !== undefined) times.set(entry, ms);
    }
    return times;
  };
  const before = sample();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const busy = [];
  for (const [pid, ms] of sample()) {
    const used = ms - (before.get(pid) ?? ms);
    if (used > 0) busy.push({ pid: Number(pid), command: commandOf(pid), cores: Math.round((used / windowMs) * 100) / 100 });
  }
  return busy.sort((a, b) => b.cores - a.cores).slice(0, count);
}

function commandOf(pid) {
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 80);
    // kernel threads (and processes that exited meanwhile) have no command line: their name is in `comm`
    return command || `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return '?';
  }
}
