// A private Prometheus for tests (issue 20): Debian's `prometheus` 2.42 run as the caller on a free 127.0.0.1 port,
// with its config and TSDB in a temp directory; and `promtool` for rule checks. Never touches a system Prometheus.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from './free-port.js';
import { type HostEnv, readHostEnv } from './host-env.js';

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;

/**
 * Directory holding `prometheus` and `promtool`: `DMR_PROMETHEUS_BIN` when set, else the first `PATH` entry with both.
 *
 * @throws Error naming `scripts/ensure-prometheus.sh` when none is usable.
 */
export async function locatePrometheusBin(host: HostEnv = readHostEnv()): Promise<string> {
  const candidates = host.prometheusBinOverride !== undefined ? [host.prometheusBinOverride] : (host.path ?? '').split(delimiter);
  for (const dir of candidates.filter(Boolean)) {
    if ((await isExecutable(join(dir, 'prometheus'))) && (await isExecutable(join(dir, 'promtool')))) return dir;
  }
  const where = host.prometheusBinOverride !== undefined ? `DMR_PROMETHEUS_BIN=${host.prometheusBinOverride}` : 'PATH';
  throw new Error(`No prometheus and promtool found in ${where}. Run scripts/ensure-prometheus.sh or set DMR_PROMETHEUS_BIN.`);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What a `promtool` run printed and how it exited. */
export interface PromtoolResult {
  readonly exitCode: number;
  readonly output: string;
}

/** Runs `promtool ...args` (e.g. `check rules`, `test rules`) and returns its exit code and combined output. */
export async function runPromtool(args: readonly string[], options: { cwd?: string } = {}): Promise<PromtoolResult> {
  const promtool = join(await locatePrometheusBin(), 'promtool');
  try {
    const { stdout, stderr } = await execFileAsync(promtool, [...args], { cwd: options.cwd, timeout: 60_000 });
    return { exitCode: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof failure.code !== 'number') throw error;
    return { exitCode: failure.code, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

/** Options of {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /**
   * The configuration file's text, made from the chosen port and directory (a rule file path can point into `dir`,
   * written by `files`).
   */
  readonly config: (dir: string) => string;
  /** Further files to write into the directory before the start (name → content), e.g. rule files. */
  readonly files?: Readonly<Record<string, string>>;
}

/** A private Prometheus started by {@link startPrometheus}. */
export interface PrivatePrometheus extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Its temp directory: config, written files and `data/` (the TSDB); removed by `stop()`. */
  readonly dir: string;
  /** Runs an instant query (`/api/v1/query`) and returns `data.result`. */
  query(expr: string): Promise<PromSample[]>;
  /** `GET /api/v1/<path>` and returns `data`. */
  api<T>(path: string): Promise<T>;
  /** Everything it printed so far (its log). */
  output(): string;
  /** SIGTERM to its PID (SIGKILL after 10 s), waits for the exit and removes `dir`. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One instant-vector sample of the HTTP API. */
export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/**
 * Starts `prometheus` as the caller with `--config.file`, `--storage.tsdb.path` and `--web.listen-address` in a fresh
 * temp directory on a free 127.0.0.1 port, and waits until `/-/ready` answers 200 (up to 30 s).
 *
 * @throws Error with the tail of its output when it exits or does not become ready.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrivatePrometheus> {
  const bin = await locatePrometheusBin();
  const dir = await mkdtemp(join(tmpdir(), 'dmrtest-prometheus-'));
  try {
    for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), content);
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, options.config(dir));
    const port = await findFreePort();
    const child = spawn(
      join(bin, 'prometheus'),
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const running = new RunningPrometheus(child, port, dir);
    await running.waitReady();
    return running;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

class RunningPrometheus implements PrivatePrometheus {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #output = '';
  #stopped: Promise<void> | undefined;

  constructor(
    child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {
    this.#child = child;
    this.url = `http://127.0.0.1:${port}`;
    const append = (chunk: Buffer): void => {
      this.#output = `${this.#output}${chunk.toString()}`.slice(-OUTPUT_TAIL_CHARS * 4);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.#exited = new Promise((done) => child.once('exit', () => done()));
  }

  async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) break;
      const ready = await fetch(`${this.url}/-/ready`).catch(() => undefined);
      if (ready?.status === 200) return;
      await new Promise((done) => setTimeout(done, 100));
    }
    const tail = this.#output.slice(-OUTPUT_TAIL_CHARS);
    await this.stop();
    throw new Error(`Prometheus on port ${this.port} did not become ready:\n${tail}`);
  }

  async api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}/api/v1/${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus API ${path}: ${body.error ?? response.status}`);
    return body.data;
  }

  async query(expr: string): Promise<PromSample[]> {
    const data = await this.api<{ result: PromSample[] }>(`query?query=${encodeURIComponent(expr)}`);
    return data.result;
  }

  output(): string {
    return this.#output;
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #shutdown(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
