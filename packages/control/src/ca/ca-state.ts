import { DmrError } from '@dmr/shared/base';
import { normaliseSerial } from './serial.js';
import { CA_PURPOSES, type CaPurpose, CERTIFICATE_KINDS, type CertificateKind } from './vocabulary.js';

/**
 * RFC 5280 revocation reasons an operator may give. `certificateHold` (this CA never un-revokes),
 * `removeFromCRL` (delta CRLs only) and the CA/AA-compromise reasons (no sub-CAs) are left out.
 */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
] as const;

/** One of {@link REVOCATION_REASONS}. */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** A certificate this CA signed. Times are ISO 8601 strings; serials are canonical hex. */
export interface IssuedRecord {
  readonly serial: string;
  readonly kind: CertificateKind;
  readonly commonName: string;
  readonly agentId?: string;
  readonly issuedAt: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

/** A revocation: which serial, when, and why. */
export interface RevokedRecord {
  readonly serial: string;
  readonly revokedAt: string;
  readonly reason: RevocationReason;
}

/** Everything the CA remembers besides its key and certificate (`ca-state.json`). */
export interface CaState {
  readonly version: 1;
  /**
   * What this CA may issue (`dmrctl ca init --purpose`): `agents` (DMR server and agent certificates) or `broker`
   * (RabbitMQ listener and relay-user certificates). Absent in CAs made before the split: treated as `agents`.
   */
  readonly purpose?: CaPurpose;
  /** Number of the last CRL published; 0 before the first. */
  readonly crlNumber: number;
  readonly issued: readonly IssuedRecord[];
  readonly revoked: readonly RevokedRecord[];
}

/** Which certificates to revoke: one serial, or every unrevoked certificate of an agent. */
export type RevocationTarget = { readonly serial: string } | { readonly agentId: string };

/** The state of a new CA for `purpose`. */
export function emptyCaState(purpose: CaPurpose = 'agents'): CaState {
  return { version: 1, purpose, crlNumber: 0, issued: [], revoked: [] };
}

/** The purpose of the CA in `state` (`agents` for a CA made before purposes existed). */
export function purposeOf(state: CaState): CaPurpose {
  return state.purpose ?? 'agents';
}

/** Parses a revocation reason name. Throws DMR_CA_INVALID_REQUEST listing the allowed names. */
export function parseRevocationReason(value: string): RevocationReason {
  const reason = REVOCATION_REASONS.find((name) => name === value);
  if (reason === undefined)
    throw new DmrError('DMR_CA_INVALID_REQUEST', `reason must be one of ${REVOCATION_REASONS.join(', ')}; got "${value}"`);
  return reason;
}

/** The state with one more issued certificate. */
export function withIssued(state: CaState, record: IssuedRecord): CaState {
  return { ...state, issued: [...state.issued, record] };
}

/**
 * The issued certificates `target` names that are not yet revoked.
 * Throws DMR_CA_NOT_ISSUED when nothing matches, DMR_CA_ALREADY_REVOKED when every match is revoked.
 */
export function selectForRevocation(state: CaState, target: RevocationTarget): IssuedRecord[] {
  const matches =
    'serial' in target
      ? state.issued.filter((record) => record.serial === normaliseSerial(target.serial))
      : state.issued.filter((record) => record.kind === 'agent' && record.agentId === target.agentId);
  const label = 'serial' in target ? `serial ${target.serial}` : `agent ${target.agentId}`;
  if (matches.length === 0) throw new DmrError('DMR_CA_NOT_ISSUED', `no certificate for ${label} was issued by this CA`);
  const revoked = revokedSerialsOf(state);
  const open = matches.filter((record) => !revoked.has(record.serial));
  if (open.length === 0) throw new DmrError('DMR_CA_ALREADY_REVOKED', `every certificate for ${label} is already revoked`);
  return open;
}

/** The state with `serials` revoked at `at` for `reason`. */
export function withRevoked(state: CaState, serials: readonly string[], reason: RevocationReason, at: Date): CaState {
  const added = serials.map((serial) => ({ serial, revokedAt: at.toISOString(), reason }));
  return { ...state, revoked: [...state.revoked, ...added] };
}

/** The state after publishing one more CRL (its number is the new `crlNumber`). */
export function withNextCrlNumber(state: CaState): CaState {
  return { ...state, crlNumber: state.crlNumber + 1 };
}

/** Canonical serials of every revoked certificate. */
export function revokedSerialsOf(state: CaState): Set<string> {
  return new Set(state.revoked.map((record) => record.serial));
}

/** The JSON text of `state` (stable, pretty-printed, newline-terminated). */
export function serialiseCaState(state: CaState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** Parses `ca-state.json`. Throws DMR_CA_STATE_INVALID naming the first bad field. */
export function parseCaState(text: string): CaState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DmrError('DMR_CA_STATE_INVALID', 'ca-state.json is not valid JSON', { cause: error });
  }
  const state = value as Partial<CaState> | null;
  if (state?.version !== 1) throw stateError('version must be 1');
  if (!Number.isSafeInteger(state.crlNumber) || (state.crlNumber ?? -1) < 0) throw stateError('crlNumber must be a non-negative integer');
  if (!Array.isArray(state.issued) || !state.issued.every(isIssuedRecord)) throw stateError('issued[] has a malformed entry');
  if (!Array.isArray(state.revoked) || !state.revoked.every(isRevokedRecord)) throw stateError('revoked[] has a malformed entry');
  if (state.purpose !== undefined && !CA_PURPOSES.includes(state.purpose))
    throw stateError(`purpose must be one of ${CA_PURPOSES.join(', ')}`);
  return {
    version: 1,
    ...(state.purpose === undefined ? {} : { purpose: state.purpose }),
    crlNumber: state.crlNumber ?? 0,
    issued: state.issued,
    revoked: state.revoked,
  };
}

function stateError(detail: string): DmrError {
  return new DmrError('DMR_CA_STATE_INVALID', `ca-state.json: ${detail}`);
}

function isSerial(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{2,40}$/.test(value) && value.length % 2 === 0;
}

function isIsoTime(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function isIssuedRecord(value: unknown): value is IssuedRecord {
  const record = value as Partial<IssuedRecord> | null;
  return (
    isSerial(record?.serial) &&
    CERTIFICATE_KINDS.includes(record.kind as CertificateKind) &&
    typeof record.commonName === 'string' &&
    (record.agentId === undefined || typeof record.agentId === 'string') &&
    isIsoTime(record.issuedAt) &&
    isIsoTime(record.notBefore) &&
    isIsoTime(record.notAfter)
  );
}

function isRevokedRecord(value: unknown): value is RevokedRecord {
  const record = value as Partial<RevokedRecord> | null;
  return isSerial(record?.serial) && isIsoTime(record.revokedAt) && REVOCATION_REASONS.includes(record.reason as RevocationReason);
}
