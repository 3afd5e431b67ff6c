import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DmrError } from '@dmr/shared/base';

/** Mode of private keys and of the CA state: owner read/write only. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of certificates and CRLs: public material, readable by the services that load it. */
export const PUBLIC_FILE_MODE = 0o644;
/** Mode of directories this toolkit creates. */
export const PRIVATE_DIR_MODE = 0o700;

/** The files of a CA directory. */
export interface CaPaths {
  readonly dir: string;
  readonly key: string;
  readonly certificate: string;
  readonly state: string;
  readonly crl: string;
  readonly lock: string;
}

/** The files of one issued certificate. */
export interface LeafPaths {
  readonly certificate: string;
  readonly key: string;
}

/** The file layout of the CA in `dir`. */
export function caPaths(dir: string): CaPaths {
  return {
    dir,
    key: join(dir, 'ca.key.pem'),
    certificate: join(dir, 'ca.cert.pem'),
    state: join(dir, 'ca-state.json'),
    crl: join(dir, 'crl.pem'),
    lock: join(dir, 'ca.lock'),
  };
}

/** `<outDir>/<name>.cert.pem` and `<name>.key.pem`. Throws DMR_CA_INVALID_REQUEST when `name` is not a plain file name. */
export function leafPaths(outDir: string, name: string): LeafPaths {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name) || name !== basename(name)) {
    throw new DmrError('DMR_CA_INVALID_REQUEST', `"${name}" is not a valid file base name`);
  }
  return { certificate: join(outDir, `${name}.cert.pem`), key: join(outDir, `${name}.key.pem`) };
}

/**
 * Why a private key file with permission bits `mode` must not be used, or undefined when it is
 * private (no group/other bits), as ssh does for its keys.
 */
export function keyModeProblem(mode: number): string | undefined {
  const bits = mode & 0o777;
  return (bits & 0o077) === 0 ? undefined : `mode ${bits.toString(8).padStart(4, '0')} lets group or others access it; expected 0600`;
}

/** Creates `dir` (and parents) with mode 0700 when it does not exist; an existing directory keeps its mode. */
export async function ensureDir(dir: string): Promise<void> {
  await io(`create directory ${dir}`, () => mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE }));
}

/**
 * Writes a new file with exactly `mode` (set with chmod, so the umask cannot loosen or tighten it).
 * Never overwrites: throws DMR_CA_FILE_EXISTS when `path` exists, DMR_CA_IO_FAILED on other errors.
 */
export async function writeNewFile(path: string, content: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') throw new DmrError('DMR_CA_FILE_EXISTS', `${path} already exists; nothing was overwritten`);
    throw new DmrError('DMR_CA_IO_FAILED', `cannot create ${path}: ${error.message}`, { cause: error });
  });
  try {
    await io(`write ${path}`, async () => {
      await handle.chmod(mode);
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    });
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` atomically (temp file in the same directory, then rename) with exactly `mode`:
 * a server watching a CRL or a crash mid-write never sees a half-written file.
 */
export async function replaceFile(path: string, content: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeNewFile(temp, content, mode);
    await io(`rename ${temp}`, () => rename(temp, path));
  } finally {
    await rm(temp, { force: true });
  }
}

/** Throws DMR_CA_FILE_EXISTS naming the first of `paths` that exists: nothing is ever overwritten. */
export async function assertAbsent(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    if (await exists(path)) throw new DmrError('DMR_CA_FILE_EXISTS', `${path} already exists; nothing was overwritten`);
  }
}

/** Reads a UTF-8 file. Throws DMR_CA_IO_FAILED naming the file. */
export async function readText(path: string): Promise<string> {
  return io(`read ${path}`, () => readFile(path, 'utf8'));
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The permission bits of `path`. */
export async function fileMode(path: string): Promise<number> {
  return io(`stat ${path}`, async () => (await stat(path)).mode & 0o777);
}

async function io<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof DmrError) throw error;
    throw new DmrError('DMR_CA_IO_FAILED', `cannot ${what}: ${(error as Error).message}`, { cause: error });
  }
}
