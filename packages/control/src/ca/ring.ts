// The control plane's CAs on disk: `<DMR_CONTROL_CA_DIR>/ring.json` names them (see domain/ca-ring.ts), and each
// `<DMR_CONTROL_CA_DIR>/<id>/` is a dmrctl CA directory (key 0600, certificate, ca-state.json for its purpose). The
// keys never leave these files; what was issued and revoked lives in the control store, so two instances agree.

import { join } from 'node:path';
import { DmrError, withFinalNewline } from '@dmr/shared/base';
import {
  activeCa,
  type CaRing,
  type CertOutcome,
  certRefusal,
  parseCaRing,
  type RingEntry,
  type RingPurpose,
  serialiseCaRing,
  trustedCas,
  withCaActivated,
  withCaAdded,
  withCaRetired,
} from '../domain/index.js';
import { initCa } from './authority.js';
import { purposeOf } from './ca-state.js';
import { openCa } from './ca-store.js';
import { caPaths, ensureDir, exists, PRIVATE_FILE_MODE, readText, replaceFile } from './files.js';
import type { CaSigner } from './issue.js';
import type { KeyType } from './keys.js';

/** The ring file's name inside the CA directory. */
export const RING_FILE = 'ring.json';

/** A trusted CA, opened: its ring entry, its signer (certificate and non-extractable key) and its certificate as PEM. */
export interface RingCa {
  readonly entry: RingEntry;
  readonly signer: CaSigner;
  readonly certificatePem: string;
  /**
   * The last CRL number dmrctl published offline for this CA (`ca-state.json`), 0 if none. Online CRL numbers start
   * above it, so a server that still holds an offline CRL takes the first online one as newer, not as stale.
   */
  readonly offlineCrlNumber: number;
}

/** The ring as the service uses it: the document and every trusted (active or published) CA, opened. */
export interface LoadedRing {
  /**
   * `ring`: `<dir>/ring.json` and one CA directory per id. `single`: `<dir>` is one dmrctl CA directory (no
   * ring.json), read as a ring of that one CA, active, with the id of its purpose (`agents` or `broker`).
   */
  readonly layout: 'ring' | 'single';
  readonly ring: CaRing;
  readonly trusted: readonly RingCa[];
}

/**
 * Reads `ring.json` and opens every trusted CA (key mode 0600, key matching certificate, purpose matching the
 * ring's). A directory without ring.json that is itself a dmrctl CA is read as a one-CA ring (the `single` layout).
 * Throws DMR_CA_NOT_FOUND (neither, or a CA directory missing), DMR_CA_STATE_INVALID, DMR_CA_KEY_EXPOSED,
 * DMR_CA_IO_FAILED, DMR_CRYPTO_KEY_INVALID.
 */
export async function loadCaRing(dir: string): Promise<LoadedRing> {
  if (!(await exists(join(dir, RING_FILE))) && (await exists(caPaths(dir).key))) return loadSingleCa(dir);
  const ring = await readRing(dir);
  const trusted: RingCa[] = [];
  for (const entry of trustedCas(ring)) trusted.push(await openRingCa(join(dir, entry.id), entry));
  return { layout: 'ring', ring, trusted };
}

async function loadSingleCa(dir: string): Promise<LoadedRing> {
  const opened = await openCa(caPaths(dir));
  const purpose = purposeOf(opened.state);
  // the id is the purpose, so moving this directory to <dir>/<purpose>/ beside a ring.json keeps the store's caId
  const entry: RingEntry = { id: purpose, purpose, status: 'active' };
  const ca = await openRingCa(dir, entry);
  return { layout: 'single', ring: { version: 1, cas: [entry] }, trusted: [ca] };
}

/** The CA of `loaded` that signs for `purpose`, or undefined. */
export function signingCaOf(loaded: LoadedRing, purpose: RingPurpose): RingCa | undefined {
  const entry = activeCa(loaded.ring, purpose);
  return entry === undefined ? undefined : loaded.trusted.find((ca) => ca.entry.id === entry.id);
}

/** The trusted CAs of `purpose` (active and published), in ring order. */
export function trustedCasOf(loaded: LoadedRing, purpose: RingPurpose): RingCa[] {
  return loaded.trusted.filter((ca) => ca.entry.purpose === purpose);
}

/** The PEM bundle of the trusted CA certificates of `purpose`, in ring order (during a change-over: old and new). */
export function trustedBundlePem(loaded: LoadedRing, purpose: RingPurpose): string {
  return trustedCasOf(loaded, purpose)
    .map((ca) => ca.certificatePem)
    .join('');
}

async function readRing(dir: string): Promise<CaRing> {
  const path = join(dir, RING_FILE);
  if (!(await exists(path))) {
    throw new DmrError('DMR_CA_NOT_FOUND', `no CA ring in ${dir}: ${path} is missing (create it with initCaRing or by hand)`);
  }
  return parseCaRing(await readText(path));
}

async function openRingCa(caDir: string, entry: RingEntry): Promise<RingCa> {
  const opened = await openCa(caPaths(caDir));
  const purpose = purposeOf(opened.state);
  if (purpose !== entry.purpose) {
    throw new DmrError('DMR_CA_STATE_INVALID', `CA "${entry.id}" is a ${purpose} CA but ring.json lists it for ${entry.purpose}`);
  }
  const certificatePem = withFinalNewline(opened.signer.certificate.toString('pem'));
  return { entry, signer: opened.signer, certificatePem, offlineCrlNumber: opened.state.crlNumber };
}

/** Options of {@link addCaToRing}. */
export interface AddCaOptions {
  readonly id: string;
  readonly purpose: RingPurpose;
  readonly commonName: string;
  readonly keyType?: KeyType;
  readonly validityDays?: number;
  readonly now?: Date;
}

/**
 * Change-over step 1 (or the first CA of a purpose): creates the CA in `<dir>/<id>` (dmrctl's layout, key 0600) and
 * adds it to `ring.json` (created when missing): `active` when its purpose has none, else `published`. Refusals
 * (duplicate id) are values; file faults throw the codes of {@link initCa}.
 */
export async function addCaToRing(dir: string, options: AddCaOptions): Promise<CertOutcome<CaRing>> {
  await ensureDir(dir);
  if (!(await exists(join(dir, RING_FILE))) && (await exists(caPaths(dir).key))) {
    const why = `${dir} is a single CA directory: move it to ${join(dir, '<purpose>')}/ and write ${RING_FILE} first (docs: CA change-over)`;
    return certRefusal('DMR_CA_INVALID_REQUEST', why, 'dir');
  }
  const current = (await exists(join(dir, RING_FILE))) ? await readRing(dir) : { version: 1 as const, cas: [] };
  const next = withCaAdded(current, options.id, options.purpose);
  if (!next.ok) return next;
  await initCa({
    dir: join(dir, options.id),
    commonName: options.commonName,
    purpose: options.purpose,
    ...(options.keyType === undefined ? {} : { keyType: options.keyType }),
    ...(options.validityDays === undefined ? {} : { validityDays: options.validityDays }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  await writeRing(dir, next.value);
  return next;
}

/** Change-over step 2: the published CA `id` starts signing; the previous signer stays trusted. */
export async function activateRingCa(dir: string, id: string): Promise<CertOutcome<CaRing>> {
  return updateRing(dir, (ring) => withCaActivated(ring, id));
}

/** Change-over step 3: the published CA `id` is trusted no more (out of both bundles). */
export async function retireRingCa(dir: string, id: string): Promise<CertOutcome<CaRing>> {
  return updateRing(dir, (ring) => withCaRetired(ring, id));
}

async function updateRing(dir: string, change: (ring: CaRing) => CertOutcome<CaRing>): Promise<CertOutcome<CaRing>> {
  const next = change(await readRing(dir));
  if (next.ok) await writeRing(dir, next.value);
  return next;
}

async function writeRing(dir: string, ring: CaRing): Promise<void> {
  // 0600 like ca-state.json: it says which key signs, which is the operator's business only
  await replaceFile(join(dir, RING_FILE), serialiseCaRing(ring), PRIVATE_FILE_MODE);
}
