// The deployables as real child processes (dist/main.js), logs to files, stopped by PID (SIGTERM, then SIGKILL).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup } from './cleanup.mjs';

/** Repo root (bench/ lives directly under it). */
export const ROOT = join(import.meta.dirname, '..', '..');
/** Where the deployables are taken from; BENCH_DMR_ROOT points at another build (before/after comparisons). */
const DMR_ROOT = process.env.BENCH_DMR_ROOT ?? ROOT;
export const SERVER_BIN = join(DMR_ROOT, 'packages/server/dist/main.js');
export const AGENT_BIN = join(DMR_ROOT, 'packages/agent/dist/main.js');

/**
 * Spawns `node [nodeArgs] <script>` with exactly `env` (plus PATH); stdout and stderr go to `<logDir>/<name>.log`;
 * `ipc` adds a message channel.
 * Returns `{name, pid, child, logFile, exited, stop()}`; `stop` is registered for cleanup too.
 */
/** `BENCH_DMR_ENV` (a JSON object) adds env vars to every process the bench launches: for A/B runs of a setting. */
function extraEnv() {
  return process.env.BENCH_DMR_ENV ? JSON.parse(process.env.BENCH_DMR_ENV) : {};
}

export function launch(name, script, env, logDir, { nodeArgs = [], ipc = false } = {}) {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, ...extraEnv() },
    stdio: ['ignore', fd, fd, ...(ipc ? ['ipc'] : [])],
  });
  closeSync(fd);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = onCleanup(`${name} (pid ${child.pid})`, () => terminate(child, exited));
  return { name, pid: child.pid, child, logFile, exited, stop };
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process is gone. */
export async function terminate(child, exited, graceMs = 8000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Polls `url` until it answers 200, the process exits, or `timeoutMs` passes (then throws with the log tail). */
export async function waitHttpOk(proc, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let hasExited = false;
  void proc.exited.then(() => {
    hasExited = true;
  });
  while (Date.now() < deadline && !hasExited) {
    const status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${proc.name} not ready at ${url} (${hasExited ? 'exited' : 'timeout'}):\n${tailOf(proc.logFile)}`);
}

/** The last lines of a log file, for error messages. */
export function tailOf(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
