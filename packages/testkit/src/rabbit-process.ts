import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { NodeLayout } from './node-env.js';

const execFileAsync = promisify(execFile);

/** Seconds `rabbitmqctl wait` allows a node to boot. */
export const BOOT_TIMEOUT_S = 90;
const BOOT_POLL_MS = 200;
const STOP_TIMEOUT_MS = 120_000;
const EXIT_WAIT_MS = 15_000;
const LOG_TAIL_LINES = 40;

/** How one node's scripts are run: the same env for server and every CLI call. */
export interface NodeRuntime {
  readonly sbin: string;
  readonly env: Readonly<Record<string, string>>;
  readonly nodeName: string;
  readonly layout: NodeLayout;
}

/** A running `rabbitmq-server` wrapper process, leader of its own process group. */
export interface ServerProcess {
  /** pid of the wrapper script, which is also the id of the node's process group. */
  readonly groupId: number;
  /** Resolves when the wrapper exits, which it does right after the Erlang VM. */
  readonly exited: Promise<void>;
  /** `undefined` while running, then e.g. `code 1` or `SIGKILL`. */
  exitReason(): string | undefined;
}

/** Runs `rabbitmqctl -n <node> ...args` with the node's env and returns stdout. */
export async function runCtl(
  rt: NodeRuntime,
  args: readonly string[],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(join(rt.sbin, 'rabbitmqctl'), ['-n', rt.nodeName, ...args], {
      env: rt.env,
      cwd: rt.layout.baseDir,
      signal: options.signal,
      timeout: options.timeoutMs ?? 0,
      // The CLI holds no state worth a graceful exit, and a slow one outlives aborted waits.
      killSignal: 'SIGKILL',
    });
    return stdout;
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim();
    throw new Error(`rabbitmqctl ${args[0] ?? ''} failed for ${rt.nodeName}: ${stderr || String(cause)}`, { cause });
  }
}

/**
 * Starts `rabbitmq-server` detached (own session via setsid, stdin /dev/null,
 * output appended to the startup log) so it outlives neither more nor less
 * than the caller decides, and an idle test runner can still exit.
 */
export async function spawnServer(rt: NodeRuntime): Promise<ServerProcess> {
  const running = await readNodePid(rt.layout);
  if (running !== undefined && isProcessAlive(running)) {
    throw new Error(`A RabbitMQ node (pid ${running}) already runs from ${rt.layout.baseDir}; stop it first.`);
  }
  // A stale pid file from a killed node would make `rabbitmqctl wait` watch a dead pid.
  await rm(rt.layout.pidFile, { force: true });
  const log = await open(rt.layout.startupLog, 'a');
  try {
    const child = spawn(join(rt.sbin, 'rabbitmq-server'), [], {
      cwd: rt.layout.baseDir,
      env: rt.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    await onceSpawned(child);
    child.unref();
    return trackExit(child);
  } finally {
    await log.close();
  }
}

function onceSpawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
}

function trackExit(child: ChildProcess): ServerProcess {
  let reason: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      reason = signal ?? `code ${code ?? 'unknown'}`;
      resolve();
    });
  });
  if (child.pid === undefined) throw new Error('rabbitmq-server started without a pid');
  return { groupId: child.pid, exited, exitReason: () => reason };
}

/** Where the startup log ends before a (re)start, so only the new output is inspected. */
export interface LogMark {
  readonly path: string;
  readonly offset: number;
}

/** Notes the current size of the startup log (the node's only log; see `renderRabbitConf`). */
export async function markLog(rt: NodeRuntime): Promise<LogMark> {
  return { path: rt.layout.startupLog, offset: await fileSize(rt.layout.startupLog) };
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

/**
 * Waits until the node has booted (`rabbitmqctl wait <pidfile>`), failing fast
 * when the server exits or logs `[error]` first; then the error carries the
 * first error line and the tail of the startup log. The caller cleans up.
 */
export async function waitForBoot(rt: NodeRuntime, server: ServerProcess, mark: LogMark): Promise<void> {
  const abort = new AbortController();
  const wait = settle(runCtl(rt, ['wait', rt.layout.pidFile, '--timeout', String(BOOT_TIMEOUT_S)], { signal: abort.signal }));
  try {
    for (;;) {
      await sleep(BOOT_POLL_MS);
      // Read the state before scanning the log, so an error logged just before boot completed is still seen.
      const state = wait.state;
      const exitReason = server.exitReason();
      if ((await findErrorLine(mark)) !== undefined) throw await bootError(rt, mark, 'the server logged [error]');
      if (state.kind === 'fulfilled') return;
      if (state.kind === 'rejected') throw await bootError(rt, mark, 'rabbitmqctl wait failed', state.reason);
      if (exitReason !== undefined) throw await bootError(rt, mark, `the server exited (${exitReason})`);
    }
  } finally {
    abort.abort();
    await wait.done;
  }
}

type Settled = { kind: 'pending' } | { kind: 'fulfilled' } | { kind: 'rejected'; reason: unknown };

function settle(promise: Promise<unknown>): { state: Settled; done: Promise<void> } {
  const holder: { state: Settled; done: Promise<void> } = { state: { kind: 'pending' }, done: Promise.resolve() };
  holder.done = promise.then(
    () => {
      holder.state = { kind: 'fulfilled' };
    },
    (reason: unknown) => {
      holder.state = { kind: 'rejected', reason };
    },
  );
  return holder;
}

async function findErrorLine(mark: LogMark): Promise<string | undefined> {
  const text = await readSince(mark.path, mark.offset);
  return text.split('\n').find((line) => line.includes('[error]'));
}

async function readSince(path: string, offset: number): Promise<string> {
  const content = await readFile(path).catch(() => Buffer.alloc(0));
  return content.subarray(offset).toString('utf8');
}

async function bootError(rt: NodeRuntime, mark: LogMark, reason: string, cause?: unknown): Promise<Error> {
  const firstError = await findErrorLine(mark);
  const output = await readSince(mark.path, mark.offset);
  const tailLines = output.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  const message = [
    `RabbitMQ node ${rt.nodeName} failed to start: ${reason}.`,
    firstError === undefined ? undefined : `First error: ${firstError}`,
    `Last lines of ${rt.layout.startupLog}:`,
    tailLines,
  ];
  return new Error(message.filter((l) => l !== undefined).join('\n'), { cause });
}

/** Reads the Erlang VM's OS pid from the node's pid file, if there is one. */
export async function readNodePid(layout: NodeLayout): Promise<number | undefined> {
  const text = await readFile(layout.pidFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when `pid` names a live process we may signal. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops the node by name (`rabbitmqctl stop <pidfile>`) if it is still running, then awaits the wrapper. */
export async function stopServer(rt: NodeRuntime, server: ServerProcess): Promise<void> {
  const pid = await readNodePid(rt.layout);
  if (server.exitReason() === undefined && pid !== undefined && isProcessAlive(pid)) {
    await runCtl(rt, ['stop', rt.layout.pidFile], { timeoutMs: STOP_TIMEOUT_MS });
  }
  await awaitExit(server);
}

/** SIGKILLs the Erlang VM named in the pid file, as a crash would, and awaits its exit. */
export async function killNodeVm(rt: NodeRuntime, server: ServerProcess): Promise<void> {
  const pid = await readNodePid(rt.layout);
  if (pid !== undefined && server.exitReason() === undefined) signal(pid, 'SIGKILL');
  await awaitExit(server);
}

/** SIGKILLs the whole process group this process started for the node (wrapper, VM, port programs). */
export async function killServerGroup(server: ServerProcess): Promise<void> {
  if (server.exitReason() === undefined) signal(-server.groupId, 'SIGKILL');
  await awaitExit(server);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function awaitExit(server: ServerProcess): Promise<void> {
  const cancelTimer = new AbortController();
  const timeout = sleep(EXIT_WAIT_MS, 'timeout' as const, { signal: cancelTimer.signal }).catch(() => 'cancelled' as const);
  try {
    if ((await Promise.race([server.exited, timeout])) === 'timeout') {
      throw new Error(`rabbitmq-server (process group ${server.groupId}) did not exit within ${EXIT_WAIT_MS} ms`);
    }
  } finally {
    // A pending timer would keep an otherwise finished test runner alive.
    cancelTimer.abort();
  }
}
