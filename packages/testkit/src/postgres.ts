import { randomBytes } from 'node:crypto';
import { appendFile, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findFreePort } from './free-port.js';
import {
  logTail,
  type PostgresRuntime,
  postgresOsIds,
  postgresRuntime,
  readPostmasterPid,
  runPostgresProgram,
} from './postgres-process.js';

/** The superuser of every private test cluster. */
export const POSTGRES_TEST_USER = 'dmrtest';
const START_ATTEMPTS = 3;
const START_TIMEOUT_S = 60;
const STOP_TIMEOUT_S = 30;
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Directory for the data dir, socket and log. Default: a fresh `mkdtemp` under `os.tmpdir()`, removed by `stop()`. */
  readonly baseDir?: string;
}

/** A private PostgreSQL cluster started by {@link startPostgres}. */
export interface PostgresCluster extends AsyncDisposable {
  /** `postgres://dmrtest:<password>@127.0.0.1:<port>/postgres`: the maintenance database. */
  readonly url: string;
  readonly port: number;
  readonly baseDir: string;
  /** The postmaster's pid. */
  readonly pid: number;
  /** The URL of `database` on this cluster. */
  urlFor(database: string): string;
  /**
   * Creates an empty UTF-8 database (so each test file gets its own on one cluster) and returns its URL.
   *
   * @throws Error for a name outside `[a-z_][a-z0-9_]{0,62}` or when it already exists.
   */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl stop -m fast`, then removes `baseDir` if this cluster created it. Idempotent: one memoised promise. */
  stop(): Promise<void>;
  /** Same as {@link PostgresCluster.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a private PostgreSQL cluster from the machine's server binaries (`initdb`, `pg_ctl`; as the `postgres`
 * OS user when running as root) with its own data dir, a socket in `baseDir`, listening on 127.0.0.1 only, on a
 * free port, with password (SCRAM) login for {@link POSTGRES_TEST_USER}. Durability is off (fsync, synchronous
 * commit): a test cluster trades crash safety for speed. Waits until it accepts connections; fails fast with the
 * server log's tail. Never touches a system cluster (5432). ~3 s on this class of machine.
 *
 * @throws Error when the binaries are missing (run `scripts/ensure-postgres.sh`) or the cluster does not start.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresCluster> {
  const rt = await postgresRuntime();
  const ownsBaseDir = options.baseDir === undefined;
  const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), 'dmrtest-pg-')));
  try {
    const password = randomBytes(18).toString('base64url');
    await initCluster(rt, baseDir, password);
    const port = await startServer(rt, baseDir);
    const pid = await readPostmasterPid(join(baseDir, 'data'));
    if (pid === undefined) throw new Error(`PostgreSQL started but ${baseDir}/data/postmaster.pid names no pid`);
    return new PrivatePostgres(rt, { baseDir, ownsBaseDir, port, pid, password });
  } catch (error) {
    await stopQuietly(rt, baseDir);
    if (ownsBaseDir) await rm(baseDir, { recursive: true, force: true });
    throw error;
  }
}

async function initCluster(rt: PostgresRuntime, baseDir: string, password: string): Promise<void> {
  const pwfile = join(baseDir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (rt.isSwitchingUser) {
    const { uid, gid } = await postgresOsIds();
    await chown(baseDir, uid, gid);
    await chown(pwfile, uid, gid);
  }
  const args = ['-D', join(baseDir, 'data'), '-U', POSTGRES_TEST_USER, '-A', 'scram-sha-256', `--pwfile=${pwfile}`];
  await runPostgresProgram(rt, 'initdb', [...args, '-E', 'UTF8', '--locale=C', '--no-sync'], { cwd: baseDir });
  await rm(pwfile);
}

// A free port can be taken by someone else before the server binds it: try again with another.
async function startServer(rt: PostgresRuntime, baseDir: string): Promise<number> {
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'postgres.log');
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    await appendFile(join(dataDir, 'postgresql.conf'), serverSettings(port, baseDir));
    try {
      const args = ['-D', dataDir, '-l', logFile, '-w', '-t', String(START_TIMEOUT_S), 'start'];
      await runPostgresProgram(rt, 'pg_ctl', args, { cwd: baseDir, timeoutMs: (START_TIMEOUT_S + 10) * 1000, logFile });
      return port;
    } catch (error) {
      const isPortTaken = /could not bind|address already in use/i.test(await logTail(logFile));
      if (!isPortTaken || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

// Appended: the last setting of a name wins, so a retry's port replaces the previous one.
function serverSettings(port: number, baseDir: string): string {
  return [
    '',
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${baseDir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_connections = 50',
    "log_min_messages = 'warning'",
    '',
  ].join('\n');
}

async function stopQuietly(rt: PostgresRuntime, baseDir: string): Promise<void> {
  const dataDir = join(baseDir, 'data');
  if ((await readPostmasterPid(dataDir)) === undefined) return;
  await runPostgresProgram(rt, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { cwd: baseDir }).catch(() => undefined);
}

interface ClusterSettings {
  readonly baseDir: string;
  readonly ownsBaseDir: boolean;
  readonly port: number;
  readonly pid: number;
  readonly password: string;
}

class PrivatePostgres implements PostgresCluster {
  readonly port: number;
  readonly baseDir: string;
  readonly pid: number;
  readonly #rt: PostgresRuntime;
  readonly #settings: ClusterSettings;
  #stopped: Promise<void> | undefined;

  constructor(rt: PostgresRuntime, settings: ClusterSettings) {
    this.#rt = rt;
    this.#settings = settings;
    this.port = settings.port;
    this.baseDir = settings.baseDir;
    this.pid = settings.pid;
  }

  get url(): string {
    return this.urlFor('postgres');
  }

  urlFor(database: string): string {
    const { password, port } = this.#settings;
    return `postgres://${POSTGRES_TEST_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  }

  async createDatabase(name: string): Promise<string> {
    if (!DATABASE_NAME.test(name)) throw new Error(`Invalid test database name: ${JSON.stringify(name)}`);
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      // identifiers cannot be bound parameters; the name is checked above and quoted here
      await client.query(`create database ${client.escapeIdentifier(name)} encoding 'UTF8' template template0`);
    } finally {
      await client.end();
    }
    return this.urlFor(name);
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #shutdown(): Promise<void> {
    const dataDir = join(this.baseDir, 'data');
    let failure: unknown;
    try {
      const args = ['-D', dataDir, '-m', 'fast', '-w', '-t', String(STOP_TIMEOUT_S), 'stop'];
      await runPostgresProgram(this.#rt, 'pg_ctl', args, { cwd: this.baseDir, timeoutMs: (STOP_TIMEOUT_S + 10) * 1000 });
    } catch (error) {
      failure = error;
      killQuietly(this.pid);
    } finally {
      if (this.#settings.ownsBaseDir) await rm(this.baseDir, { recursive: true, force: true });
    }
    if (failure !== undefined) throw new Error(`PostgreSQL (pid ${this.pid}) did not stop cleanly and was killed`, { cause: failure });
  }
}

// Only the postmaster this harness started, by its pid.
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
