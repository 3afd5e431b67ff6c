// The real deployables as child processes (packages/*/dist/main.js), so a fault is a real SIGKILL of a real
// process. Every process a scenario starts is tracked here and killed by PID in `stopAll()` (afterEach), also
// when the scenario failed half-way; nothing is ever stopped by name pattern.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Identity } from '../../support/dmr-system.js';
import { waitUntil } from '../../support/dmr-system.js';

const root = resolve(import.meta.dirname, '../../..');
/** The dmr-server entry point as operators run it. */
export const SERVER_BIN = join(root, 'packages/server/dist/main.js');
/** The dmr-agent entry point as operators run it. */
export const AGENT_BIN = join(root, 'packages/agent/dist/main.js');

/** One JSON log line of a process (non-JSON output is kept as `{ text }`). */
export type LogLine = Record<string, unknown>;

/** A running (or exited) child process. */
export class Proc {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  #rest = '';

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.#take(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#take(chunk));
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  /** The OS process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the process exited. */
  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL, as a crash or an OOM kill would, and waits for the exit. */
  async kill9(): Promise<void> {
    if (this.isRunning) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful stop) and waits for the exit code. */
  async terminate(): Promise<number | null> {
    if (this.isRunning) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Log lines whose fields include all of `fields`. */
  find(fields: Record<string, unknown>): LogLine[] {
    return this.lines.filter((line) => Object.entries(fields).every(([key, value]) => line[key] === value));
  }

  #take(chunk: Buffer): void {
    const text = this.#rest + chunk.toString();
    const parts = text.split('\n');
    this.#rest = parts.pop() ?? '';
    for (const part of parts.filter(Boolean)) {
      try {
        this.lines.push(JSON.parse(part) as LogLine);
      } catch {
        this.lines.push({ text: part });
      }
    }
  }
}

/** Starts and tracks processes; `stopAll()` SIGKILLs whatever still runs, by PID. */
export class Fleet {
  readonly #procs: Proc[] = [];
  readonly #dir = mkdtempSync(join(tmpdir(), 'dmr-faults-'));

  /** Every process started so far, in start order (restarts included). */
  get all(): readonly Proc[] {
    return this.#procs;
  }

  /** Spawns `node <bin>` with exactly `env` (plus PATH). */
  launch(name: string, bin: string, env: Record<string, string>): Proc {
    const child = spawn(process.execPath, [bin], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new Proc(name, child);
    this.#procs.push(proc);
    return proc;
  }

  /** Writes `identity`'s private key to a 0600 file for AGENT_PRIVATE_KEY_FILE. */
  keyFile(identity: Identity): string {
    const path = join(this.#dir, `${identity.id}.pem`);
    writeFileSync(path, identity.privatePem, { mode: 0o600 });
    chmodSync(path, 0o600);
    return path;
  }

  /** Kills every process still running (SIGKILL by PID), awaits the exits, removes the key files. */
  async stopAll(): Promise<void> {
    await Promise.all(this.#procs.map((proc) => proc.kill9()));
    this.#procs.length = 0;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** GET `url` and return the status, or 0 when nothing answers. */
export async function httpStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  await response?.body?.cancel();
  return response?.status ?? 0;
}

/** Waits until `GET <baseUrl>/v1/ready` answers 200; fails with the process's last log lines otherwise. */
export async function waitReady(proc: Proc, baseUrl: string, timeoutMs = 30_000): Promise<void> {
  try {
    await waitUntil(async () => (await httpStatus(`${baseUrl}/v1/ready`)) === 200, timeoutMs, `${proc.name} ready`);
  } catch (error) {
    const tail = proc.lines.slice(-15).map((line) => JSON.stringify(line));
    throw new Error(`${(error as Error).message}\n${proc.name} exited=${!proc.isRunning}; last lines:\n${tail.join('\n')}`);
  }
}
