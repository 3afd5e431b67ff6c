// The pinned OPA (scripts/ensure-opa.sh → .tools/bin/opa) for tests: `opa test`/`opa check` runs and a real
// `opa run --server` process on a free 127.0.0.1 port, polling its policy bundle from dmr-control over mutual TLS.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findFreePort } from '@dmr/testkit';

const root = resolve(import.meta.dirname, '../..');

/** The OPA binary set-up links (scripts/ensure-opa.sh). */
export const OPA_BIN = join(root, '.tools/bin/opa');
/** The policy module set-up builds (scripts/build-policy-wasm.sh). */
export const POLICY_WASM_FILE = join(root, '.tools/policy/dmr.wasm');
/** The shipped Rego and its tests. */
export const POLICY_DIR = join(root, 'deploy/policy');

/** Fails with the set-up step to run when the binary is missing (never skips). */
export function requireOpa(): string {
  if (!existsSync(OPA_BIN)) throw new Error(`${OPA_BIN} is missing: run bash scripts/setup.sh (scripts/ensure-opa.sh builds it)`);
  return OPA_BIN;
}

/** Runs the pinned `opa` with `args` from the repository root. */
export function runOpa(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(requireOpa(), args, { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Where OPA polls its bundle: dmr-control's `/v1/policies/bundle.tar.gz` with a client certificate allowed to read. */
export interface BundleSource {
  readonly url: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A running `opa run --server` child. */
export interface OpaServer {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly output: string[];
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), then waits for the exit; idempotent. */
  stop(): Promise<void>;
}

/** Writes OPA's config: one service (dmr-control, mTLS) and the `dmr` bundle polled every 1–2 s. */
export function writeOpaConfig(dir: string, source: BundleSource): string {
  const file = join(dir, 'opa-config.json');
  const config = {
    services: {
      control: {
        url: source.url,
        tls: { ca_cert: source.caFile },
        credentials: { client_tls: { cert: source.certFile, private_key: source.keyFile } },
      },
    },
    bundles: {
      dmr: { service: 'control', resource: '/v1/policies/bundle.tar.gz', polling: { min_delay_seconds: 1, max_delay_seconds: 2 } },
    },
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/**
 * Starts `opa run --server` on `port` (a free one by default), with a config file (bundles: waits until they are
 * activated) or with Rego/data files to load (`paths`; waits until it is healthy).
 */
export async function startOpaServer(options: { configFile?: string; paths?: readonly string[]; port?: number }): Promise<OpaServer> {
  const chosen = options.port ?? (await findFreePort());
  const source = options.configFile === undefined ? [...(options.paths ?? [])] : ['--config-file', options.configFile];
  const child = spawn(
    requireOpa(),
    ['run', '--server', '--optimize-store-for-read-speed', '--addr', `127.0.0.1:${chosen}`, '--log-level', 'error', ...source],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${chosen}`;
  const waitExit = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const server: OpaServer = {
    url,
    port: chosen,
    child,
    output,
    kill: () => waitExit('SIGKILL'),
    stop: async () => {
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await waitExit('SIGTERM');
      clearTimeout(force);
    },
  };
  const deadline = Date.now() + 60_000;
  // /health?bundles answers 200 only once every configured bundle has been activated
  const health = options.configFile === undefined ? `${url}/health` : `${url}/health?bundles`;
  while ((await fetch(health).catch(() => undefined))?.status !== 200) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await server.stop();
      throw new Error(`OPA did not become healthy with its bundle: ${output.join('')}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return server;
}
