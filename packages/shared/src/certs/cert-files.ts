import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DmrError } from '../errors.js';
import { describeErrors } from '../result.js';
import { type CertificateFacts, type CertificateMaterial, inspectMaterial } from './certificate-material.js';

/** Where one TLS identity lives on disk. */
export interface CertificatePaths {
  /** The certificate (`DMR_TLS_CERT_FILE`, `RABBITMQ_TLS_CERT_FILE`). */
  readonly certFile: string;
  /** Its private key, mode 0600 (`DMR_TLS_KEY_FILE`, `AGENT_PRIVATE_KEY_FILE`, `RABBITMQ_TLS_KEY_FILE`). */
  readonly keyFile: string;
  /** The CA bundle read (and, with dmr-control, written) with it (`DMR_TLS_CA_FILE`); undefined = none. */
  readonly caFile?: string | undefined;
}

/** Mode of a private key file. */
export const KEY_FILE_MODE = 0o600;
/** Mode of certificate and CA files (public). */
export const PUBLIC_FILE_MODE = 0o644;

/** Reads the identity's files. Throws DMR_CERT_MATERIAL_INVALID naming the file that cannot be read (never its content). */
export async function readMaterial(paths: CertificatePaths): Promise<CertificateMaterial> {
  const [certificate, key, ca] = await Promise.all([
    readText(paths.certFile),
    readText(paths.keyFile),
    paths.caFile === undefined ? undefined : readText(paths.caFile),
  ]);
  return { certificate, key, ca };
}

/**
 * Reads the identity's files and checks them ({@link inspectMaterial}). Throws DMR_CERT_MATERIAL_INVALID naming the
 * files and what is wrong.
 */
export async function readIdentity(
  paths: CertificatePaths,
  nowMs: number = Date.now(),
): Promise<{ material: CertificateMaterial; facts: CertificateFacts }> {
  const material = await readMaterial(paths);
  const checked = inspectMaterial(material, nowMs);
  if (!checked.ok) {
    const files = [paths.certFile, paths.keyFile, paths.caFile].filter(Boolean).join(', ');
    throw new DmrError('DMR_CERT_MATERIAL_INVALID', `${files}: ${describeErrors(checked.errors)}`);
  }
  return { material, facts: checked.value };
}

/**
 * Writes `text` to `path` so that a reader sees the old or the new content, never a part: a temporary file in the
 * same directory with `mode` from the start (a key is never readable by others, even briefly), flushed, then renamed
 * over `path`. Throws DMR_CERT_MATERIAL_INVALID naming the path.
 */
export async function writeFileAtomically(path: string, text: string, mode: number): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // open() applies the umask; chmod makes the mode exact
    await chmod(temporary, mode);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new DmrError('DMR_CERT_MATERIAL_INVALID', `cannot write "${path}": ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Writes a newly issued certificate (and its CA bundle, when there is one and a CA file is configured) next to a key
 * that is already on disk. The certificate is written last but one and the CA bundle first: a reader that sees the new
 * certificate already trusts its issuer.
 */
export async function writeIssued(paths: CertificatePaths, issued: { certificate: string; caCertificates: string }): Promise<void> {
  if (paths.caFile !== undefined && issued.caCertificates !== '') {
    await writeFileAtomically(paths.caFile, issued.caCertificates, PUBLIC_FILE_MODE);
  }
  await writeFileAtomically(paths.certFile, issued.certificate, PUBLIC_FILE_MODE);
}

/** Whether `path` exists (any error but "no such file" counts as existing, so it surfaces when read). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DmrError('DMR_CERT_MATERIAL_INVALID', `cannot read "${path}"${code ? ` (${code})` : ''}`, { cause: error });
  }
}
