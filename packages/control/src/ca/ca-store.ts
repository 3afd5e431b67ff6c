import { createPublicKey } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { DmrError } from '@dmr/shared/base';
import { type CaState, parseCaState, serialiseCaState } from './ca-state.js';
import { type CaPaths, exists, fileMode, keyModeProblem, PRIVATE_FILE_MODE, readText, replaceFile, writeNewFile } from './files.js';
import type { CaSigner } from './issue.js';
import { signingKeyFromPem } from './keys.js';
import { x509 } from './x509.js';

/** An opened CA: its signer and the state read under the lock. */
export interface OpenedCa {
  readonly paths: CaPaths;
  readonly signer: CaSigner;
  readonly state: CaState;
}

/**
 * Opens the CA in `paths.dir` and runs `action` on it while holding `ca.lock` (created
 * exclusively), so two dmrctl runs cannot lose each other's issued serials or revocations.
 * Throws DMR_CA_NOT_FOUND before taking the lock, DMR_CA_LOCKED when the lock is held, and the codes of {@link openCa}.
 */
export async function withOpenCa<T>(paths: CaPaths, action: (ca: OpenedCa) => Promise<T>): Promise<T> {
  await assertCaPresent(paths);
  return withCaLock(paths, async () => action(await openCa(paths)));
}

async function withCaLock<T>(paths: CaPaths, action: () => Promise<T>): Promise<T> {
  try {
    await writeNewFile(paths.lock, `${process.pid}\n`, PRIVATE_FILE_MODE);
  } catch (error) {
    if (error instanceof DmrError && error.code === 'DMR_CA_FILE_EXISTS') {
      throw new DmrError('DMR_CA_LOCKED', `${paths.lock} exists: another dmrctl is working on this CA (remove it only if none is running)`);
    }
    throw error;
  }
  try {
    return await action();
  } finally {
    await rm(paths.lock, { force: true });
  }
}

/**
 * Loads the CA in `paths.dir`: checks the three files exist (DMR_CA_NOT_FOUND), the key file is
 * private (DMR_CA_KEY_EXPOSED), the key matches the certificate and the state parses (DMR_CA_STATE_INVALID).
 */
export async function openCa(paths: CaPaths): Promise<OpenedCa> {
  await assertCaPresent(paths);
  const problem = keyModeProblem(await fileMode(paths.key));
  if (problem !== undefined) throw new DmrError('DMR_CA_KEY_EXPOSED', `${paths.key}: ${problem}`);
  const keyPem = await readText(paths.key);
  const certificate = parseCertificate(await readText(paths.certificate), paths.certificate);
  if (!isKeyOfCertificate(keyPem, certificate)) {
    throw new DmrError('DMR_CA_STATE_INVALID', `${paths.key} does not belong to the certificate in ${paths.certificate}`);
  }
  const signingKey = await signingKeyFromPem(keyPem);
  const state = parseCaState(await readText(paths.state));
  return { paths, signer: { certificate, signingKey }, state };
}

/** Writes the state atomically with mode 0600. */
export async function saveCaState(paths: CaPaths, state: CaState): Promise<void> {
  await replaceFile(paths.state, serialiseCaState(state), PRIVATE_FILE_MODE);
}

async function assertCaPresent(paths: CaPaths): Promise<void> {
  for (const path of [paths.key, paths.certificate, paths.state]) {
    if (!(await exists(path))) throw new DmrError('DMR_CA_NOT_FOUND', `no CA in ${paths.dir}: ${path} is missing (run "dmrctl ca init")`);
  }
}

function parseCertificate(pem: string, path: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (error) {
    throw new DmrError('DMR_CA_STATE_INVALID', `${path} is not a PEM certificate`, { cause: error });
  }
}

function isKeyOfCertificate(keyPem: string, certificate: x509.X509Certificate): boolean {
  try {
    const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    return fromKey.equals(Buffer.from(certificate.publicKey.rawData));
  } catch {
    return false;
  }
}
