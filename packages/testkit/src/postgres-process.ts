// Running PostgreSQL's own programs for a private test cluster: as the `postgres` OS user when the caller is root
// (initdb and postgres refuse root), as the caller otherwise. Never touches a system cluster.

import { execFile } from 'node:child_process';
import { access, constants, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type HostEnv, readHostEnv } from './host-env.js';

const execFileAsync = promisify(execFile);

/** Where Debian/Ubuntu's `postgresql-<major>` packages put their server binaries. */
export const DEFAULT_POSTGRES_LIB_DIR = '/usr/lib/postgresql';
/** The OS user PostgreSQL's programs run as when the test runs as root. */
export const POSTGRES_OS_USER = 'postgres';
const LOG_TAIL_LINES = 40;

/** How a cluster's programs are run. */
export interface PostgresRuntime {
  /** Directory holding initdb, pg_ctl and postgres. */
  readonly bin: string;
  /** True when the programs run through `runuser -u postgres --` (the caller is root). */
  readonly isSwitchingUser: boolean;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Finds the server binaries: `DMR_POSTGRES_BIN` when set, else the highest `/usr/lib/postgresql/<major>/bin`.
 *
 * @throws Error naming `scripts/ensure-postgres.sh` when none is usable.
 */
export async function locatePostgresBin(host: HostEnv = readHostEnv(), libDir = DEFAULT_POSTGRES_LIB_DIR): Promise<string> {
  if (host.postgresBinOverride !== undefined) {
    await assertServerBinaries(host.postgresBinOverride);
    return host.postgresBinOverride;
  }
  const majors = (await readdir(libDir).catch(() => [] as string[])).filter((entry) => /^\d+$/.test(entry));
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) {
    throw new Error(`No PostgreSQL server found under ${libDir}/<major>/bin. Run scripts/ensure-postgres.sh or set DMR_POSTGRES_BIN.`);
  }
  const bin = join(libDir, newest, 'bin');
  await assertServerBinaries(bin);
  return bin;
}

async function assertServerBinaries(bin: string): Promise<void> {
  for (const program of ['initdb', 'pg_ctl', 'postgres']) {
    try {
      await access(join(bin, program), constants.X_OK);
    } catch (cause) {
      throw new Error(`${join(bin, program)} is missing or not executable. Run scripts/ensure-postgres.sh.`, { cause });
    }
  }
}

/** The runtime for this process: switch to `postgres` when root. */
export async function postgresRuntime(host: HostEnv = readHostEnv()): Promise<PostgresRuntime> {
  const bin = await locatePostgresBin(host);
  // LC_ALL=C: initdb takes the locale from the environment otherwise; the cluster's own is set explicitly.
  return { bin, isSwitchingUser: process.getuid?.() === 0, env: { PATH: host.path ?? '/usr/bin:/bin', LC_ALL: 'C' } };
}

/** The uid and gid of the `postgres` OS user (for chown of the cluster directory). */
export async function postgresOsIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all(
    ['-u', '-g'].map(async (flag) => Number((await execFileAsync('id', [flag, POSTGRES_OS_USER])).stdout.trim())),
  );
  if (uid === undefined || gid === undefined || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`Cannot resolve the ${POSTGRES_OS_USER} OS user. Run scripts/ensure-postgres.sh.`);
  }
  return { uid, gid };
}

/** Runs `program` of the cluster's bin dir with `args` in `cwd`; rejects with its stderr (and the log tail, if named). */
export async function runPostgresProgram(
  rt: PostgresRuntime,
  program: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs?: number; logFile?: string },
): Promise<string> {
  const path = join(rt.bin, program);
  const [file, argv] = rt.isSwitchingUser ? ['runuser', ['-u', POSTGRES_OS_USER, '--', path, ...args]] : [path, [...args]];
  try {
    const { stdout } = await execFileAsync(file, argv, {
      cwd: options.cwd,
      env: rt.env,
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    return stdout;
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim() ?? '';
    const tail = options.logFile === undefined ? '' : `\n--- ${options.logFile} (tail) ---\n${await logTail(options.logFile)}`;
    throw new Error(`${program} ${args[0] ?? ''} failed: ${stderr || String(cause)}${tail}`, { cause });
  }
}

/** The last lines of a log file, or a note that there is none. */
export async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '(no log)');
  return text.split('\n').slice(-LOG_TAIL_LINES).join('\n');
}

/** The postmaster's pid from `<dataDir>/postmaster.pid`, or undefined when it is not running. */
export async function readPostmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
