// The control plane's CA ring (`<DMR_CONTROL_CA_DIR>/ring.json`): which CAs exist, what each is for, and where each
// stands in a trust-anchor change-over. Pure: parsing, checks and the change-over steps as transitions.
//
//   published ──activate──▶ active ──(another activated)──▶ published ──retire──▶ retired
//
// `active`: trusted and signing (exactly one per purpose in use); `published`: trusted, not signing (the incoming CA
// before the switch, the outgoing one after it); `retired`: neither (out of both bundles; its key may be deleted).

import { DmrError } from '@dmr/shared/base';
import { type CertRefusal, certRefusal } from './refusal.js';

/** What a CA signs: `agents` (agent and server certificates) or `broker` (RabbitMQ's; see ca/profiles.ts). */
export type RingPurpose = 'agents' | 'broker';

/** Where a CA stands in the change-over. */
export type CaStatus = 'active' | 'published' | 'retired';

/** Every {@link CaStatus}. */
export const CA_STATUSES: readonly CaStatus[] = ['active', 'published', 'retired'];

/** One CA of the ring: its directory `<DMR_CONTROL_CA_DIR>/<id>` is a dmrctl CA (`dmrctl ca init --dir`). */
export interface RingEntry {
  /** Directory name and the store's `caId` (certificates, CRL numbers). */
  readonly id: string;
  readonly purpose: RingPurpose;
  readonly status: CaStatus;
}

/** The ring document. */
export interface CaRing {
  readonly version: 1;
  readonly cas: readonly RingEntry[];
}

/** CA ids: a plain directory name. */
export const CA_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Parses and checks `ring.json`. Throws DMR_CA_STATE_INVALID naming the first problem: not JSON, a malformed entry,
 * a duplicate id, or a purpose with CAs but not exactly one active.
 */
export function parseCaRing(text: string): CaRing {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DmrError('DMR_CA_STATE_INVALID', 'ring.json is not valid JSON', { cause: error });
  }
  const ring = value as Partial<CaRing> | null;
  if (ring?.version !== 1 || !Array.isArray(ring.cas)) throw ringError('expected {"version":1,"cas":[…]}');
  const bad = ring.cas.findIndex((entry) => !isRingEntry(entry));
  if (bad !== -1) throw ringError(`cas[${bad}] must be {id, purpose: agents|broker, status: active|published|retired}`);
  const problem = ringProblem(ring.cas);
  if (problem !== undefined) throw ringError(problem);
  return { version: 1, cas: ring.cas.map(({ id, purpose, status }) => ({ id, purpose, status })) };
}

/** The JSON text of a ring (pretty-printed, newline-terminated). */
export function serialiseCaRing(ring: CaRing): string {
  return `${JSON.stringify(ring, null, 2)}\n`;
}

function ringError(detail: string): DmrError {
  return new DmrError('DMR_CA_STATE_INVALID', `ring.json: ${detail}`);
}

function isRingEntry(value: unknown): value is RingEntry {
  const entry = value as Partial<RingEntry> | null;
  return (
    typeof entry?.id === 'string' &&
    CA_ID_PATTERN.test(entry.id) &&
    (entry.purpose === 'agents' || entry.purpose === 'broker') &&
    CA_STATUSES.includes(entry.status as CaStatus)
  );
}

/** Why a list of entries is not a valid ring (duplicate id; a purpose in use without exactly one active CA), or undefined. */
export function ringProblem(cas: readonly RingEntry[]): string | undefined {
  const ids = new Set<string>();
  for (const entry of cas) {
    if (ids.has(entry.id)) return `CA id "${entry.id}" appears twice`;
    ids.add(entry.id);
  }
  for (const purpose of ['agents', 'broker'] as const) {
    const inUse = cas.filter((entry) => entry.purpose === purpose && entry.status !== 'retired');
    const active = inUse.filter((entry) => entry.status === 'active').length;
    if (inUse.length > 0 && active !== 1) return `purpose ${purpose} needs exactly one active CA, has ${active}`;
  }
  return undefined;
}

/** The CAs clients must trust (active and published), in ring order. */
export function trustedCas(ring: CaRing): RingEntry[] {
  return ring.cas.filter((entry) => entry.status !== 'retired');
}

/** The CA that signs for `purpose`, or undefined when the ring has none for it. */
export function activeCa(ring: CaRing, purpose: RingPurpose): RingEntry | undefined {
  return ring.cas.find((entry) => entry.purpose === purpose && entry.status === 'active');
}

/**
 * Change-over step 1: adds a CA. It becomes `active` when its purpose has no CA yet, else `published` (trusted, not
 * yet signing). Refuses a duplicate id (DMR_CA_INVALID_REQUEST).
 */
export function withCaAdded(ring: CaRing, id: string, purpose: RingPurpose): CertOutcome<CaRing> {
  if (!CA_ID_PATTERN.test(id)) return certRefusal('DMR_CA_INVALID_REQUEST', `CA id "${id}" must match ${CA_ID_PATTERN.source}`, 'id');
  if (ring.cas.some((entry) => entry.id === id)) return certRefusal('DMR_CA_INVALID_REQUEST', `CA "${id}" is already in the ring`, 'id');
  const status: CaStatus = activeCa(ring, purpose) === undefined ? 'active' : 'published';
  return { ok: true, value: { version: 1, cas: [...ring.cas, { id, purpose, status }] } };
}

/** Change-over step 2: `id` (published) starts signing; the CA that signed for its purpose stays trusted as published. */
export function withCaActivated(ring: CaRing, id: string): CertOutcome<CaRing> {
  const target = ring.cas.find((entry) => entry.id === id);
  if (target === undefined) return unknownCa(id);
  if (target.status !== 'published')
    return certRefusal('DMR_CA_INVALID_REQUEST', `CA "${id}" is ${target.status}; only a published CA can be activated`, 'id');
  const cas = ring.cas.map((entry): RingEntry => {
    if (entry.id === id) return { ...entry, status: 'active' };
    if (entry.purpose === target.purpose && entry.status === 'active') return { ...entry, status: 'published' };
    return entry;
  });
  return { ok: true, value: { version: 1, cas } };
}

/** Change-over step 3: `id` (published, no longer signing) is no longer trusted. The active CA cannot be retired. */
export function withCaRetired(ring: CaRing, id: string): CertOutcome<CaRing> {
  const target = ring.cas.find((entry) => entry.id === id);
  if (target === undefined) return unknownCa(id);
  if (target.status !== 'published')
    return certRefusal('DMR_CA_INVALID_REQUEST', `CA "${id}" is ${target.status}; only a published (not signing) CA can be retired`, 'id');
  return { ok: true, value: { version: 1, cas: ring.cas.map((entry) => (entry.id === id ? { ...entry, status: 'retired' } : entry)) } };
}

function unknownCa(id: string): CertRefusal<'DMR_CA_INVALID_REQUEST'> {
  return certRefusal('DMR_CA_INVALID_REQUEST', `no CA "${id}" in the ring`, 'id');
}

type CertOutcome<T> = { readonly ok: true; readonly value: T } | CertRefusal<'DMR_CA_INVALID_REQUEST'>;
