// The questions the store answers (list filters, pages) and the expected outcomes of its writes, as values.

import type { DmrErrorCode } from '@dmr/shared/base';
import type { CertificateSubjectKind, ChangeOutcome } from './records.js';

/** Default page size of every list. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Largest page size; a larger `limit` is served as this many. */
export const MAX_PAGE_LIMIT = 1000;

/** Paging of a list: `limit` (1–1000, default 100) and the `nextCursor` of the previous page. */
export interface PageQuery {
  readonly limit?: number;
  /** Opaque; from a previous page of the same list with the same filters. */
  readonly cursor?: string;
}

/** One page: items in key order, and the cursor of the next page (null on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** An expected refusal: a catalogued code and a message naming what was refused. */
export interface Refusal<C extends DmrErrorCode = DmrErrorCode> {
  readonly ok: false;
  readonly code: C;
  readonly message: string;
}

/** An If-Match that no longer matches: the caller may answer 412 with the current ETag. */
export interface RevisionRefusal extends Refusal<'DMR_CONTROL_REVISION_MISMATCH'> {
  readonly currentRevision: number;
}

/** A result or an expected refusal. */
export type Outcome<T, R extends Refusal = Refusal> = { readonly ok: true; readonly value: T } | R;

/** A page, or `DMR_CONTROL_CURSOR_INVALID` (400) when the cursor is not one this list made. */
export type PageOutcome<T> = Outcome<Page<T>, Refusal<'DMR_CONTROL_CURSOR_INVALID'>>;

/** Not found (404). */
export type NotFound = Refusal<'DMR_CONTROL_NOT_FOUND'>;
/** Already exists (409). */
export type AlreadyExists = Refusal<'DMR_CONTROL_ALREADY_EXISTS'>;

/** Filters of the agent list (all optional, combined with AND); ordered by id. */
export interface AgentQuery extends PageQuery {
  readonly enabled?: boolean;
  /** Agents in this group. */
  readonly group?: string;
  /** Agents carrying this label key with this value. */
  readonly label?: { readonly key: string; readonly value: string };
  /** Agents whose name starts with this (case-sensitive, by code point). */
  readonly namePrefix?: string;
  /** true: only agents with an authentication certificate (the CentOps view); false: only those without. */
  readonly hasAuthenticationCertificate?: boolean;
}

/** Filters of the certificate list; ordered by serial. */
export interface CertificateQuery extends PageQuery {
  readonly caId?: string;
  readonly subjectKind?: CertificateSubjectKind;
  readonly subjectId?: string;
  /** Only certificates whose notAfter is before this instant (ISO). */
  readonly expiringBefore?: string;
  /** true: only revoked ones; false: only unrevoked ones. */
  readonly revoked?: boolean;
}

/** Filters of the enrollment-token list; ordered by token hash. */
export interface EnrollmentTokenQuery extends PageQuery {
  readonly agentId?: string;
}

/** Filters of the change log; ordered by seq (oldest first). */
export interface ChangeQuery extends PageQuery {
  readonly subjectKind?: string;
  readonly subjectId?: string;
  readonly action?: string;
  readonly outcome?: ChangeOutcome;
  /** Only entries at or after this instant (ISO). */
  readonly since?: string;
}

/** Why consuming an enrollment token failed: unknown (never made, or its agent deleted), used, or expired. */
export type TokenRefusal = Refusal<'DMR_CONTROL_TOKEN_UNKNOWN' | 'DMR_CONTROL_TOKEN_USED' | 'DMR_CONTROL_TOKEN_EXPIRED'>;

/** Why a revocation failed: no such serial (404) or already revoked (409). */
export type RevokeRefusal = Refusal<'DMR_CA_NOT_ISSUED' | 'DMR_CA_ALREADY_REVOKED'>;
