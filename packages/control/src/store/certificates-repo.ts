// Issued certificates and their revocations.

import type { Selectable } from 'kysely';
import type { CertificateReader, CertificateWriter } from './control-store.js';
import { cutRows, invalidCursor, pageOf, pageWindow } from './paging.js';
import type { AlreadyExists, CertificateQuery, Outcome, PageOutcome, RevokeRefusal } from './queries.js';
import type { CertificateInput, CertificateRecord, CertificateSubjectKind, RevokedEntry, StoredRevocationReason } from './records.js';
import { assertStorable, type RepoContext, toIsoTime } from './repo-context.js';
import type { CertificateTable } from './schema.js';
import { markConfigWrite } from './tx-bookkeeping.js';

/** The certificate reader over `ctx`. */
export function certificateReader(ctx: RepoContext): CertificateReader {
  return {
    get: async (serial) => {
      const row = await ctx.db.selectFrom('certificates').selectAll().where('serial', '=', serial).executeTakeFirst();
      return row === undefined ? undefined : toCertificateRecord(row);
    },
    list: (query) => listCertificates(ctx, query ?? {}),
    revokedBy: (caId) => revokedBy(ctx, caId),
  };
}

/** The certificate writer over `ctx` (a transaction). */
export function certificateWriter(ctx: RepoContext): CertificateWriter {
  return {
    ...certificateReader(ctx),
    insert: (input) => insertCertificate(ctx, input),
    revoke: (serial, reason) => revoke(ctx, serial, reason),
  };
}

async function listCertificates(ctx: RepoContext, query: CertificateQuery): Promise<PageOutcome<CertificateRecord>> {
  const request = pageWindow('certificates', query, 'string');
  if (!request.ok) return invalidCursor(request.problem);
  const { limit, after } = request.window;
  const { caId, subjectKind, subjectId, expiringBefore, revoked } = query;
  const rows = await ctx.db
    .selectFrom('certificates')
    .selectAll()
    .$if(after !== undefined, (qb) => qb.where('serial', '>', after as string))
    .$if(caId !== undefined, (qb) => qb.where('ca_id', '=', caId ?? ''))
    .$if(subjectKind !== undefined, (qb) => qb.where('subject_kind', '=', subjectKind ?? ''))
    .$if(subjectId !== undefined, (qb) => qb.where('subject_id', '=', subjectId ?? ''))
    .$if(expiringBefore !== undefined, (qb) => qb.where('not_after', '<', toIsoTime(expiringBefore ?? '', 'expiringBefore')))
    .$if(revoked !== undefined, (qb) => qb.where('revoked_at', revoked ? 'is not' : 'is', null))
    .orderBy('serial')
    .limit(limit + 1)
    .execute();
  const page = cutRows(rows, limit);
  return pageOf('certificates', page.rows.map(toCertificateRecord), page.hasMore, (record) => record.serial);
}

async function revokedBy(ctx: RepoContext, caId: string): Promise<RevokedEntry[]> {
  const rows = await ctx.db
    .selectFrom('certificates')
    .select(['serial', 'revoked_at', 'revocation_reason'])
    .where('ca_id', '=', caId)
    .where('revoked_at', 'is not', null)
    .orderBy('serial')
    .execute();
  return rows.map((row) => ({
    serial: row.serial,
    revokedAt: row.revoked_at ?? '',
    reason: (row.revocation_reason ?? 'unspecified') as StoredRevocationReason,
  }));
}

async function insertCertificate(ctx: RepoContext, input: CertificateInput): Promise<Outcome<CertificateRecord, AlreadyExists>> {
  assertStorable('certificate', input);
  const row: Selectable<CertificateTable> = {
    serial: input.serial,
    ca_id: input.caId,
    subject_kind: input.subjectKind,
    subject_id: input.subjectId,
    not_before: toIsoTime(input.notBefore, 'notBefore'),
    not_after: toIsoTime(input.notAfter, 'notAfter'),
    pem: input.pem,
    public_key_sha256: input.publicKeySha256,
    issued_at: ctx.now(),
    revoked_at: null,
    revocation_reason: null,
  };
  const result = await ctx.db
    .insertInto('certificates')
    .values(row)
    .onConflict((oc) => oc.column('serial').doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) {
    return { ok: false, code: 'DMR_CONTROL_ALREADY_EXISTS', message: `certificate serial ${input.serial} already exists` };
  }
  markConfigWrite(ctx);
  return { ok: true, value: toCertificateRecord(row) };
}

async function revoke(
  ctx: RepoContext,
  serial: string,
  reason: StoredRevocationReason,
): Promise<Outcome<CertificateRecord, RevokeRefusal>> {
  const updated = await ctx.db
    .updateTable('certificates')
    .set({ revoked_at: ctx.now(), revocation_reason: reason })
    .where('serial', '=', serial)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (updated !== undefined) {
    markConfigWrite(ctx);
    return { ok: true, value: toCertificateRecord(updated) };
  }
  const exists = await ctx.db.selectFrom('certificates').select('serial').where('serial', '=', serial).executeTakeFirst();
  return exists === undefined
    ? { ok: false, code: 'DMR_CA_NOT_ISSUED', message: `no certificate with serial ${serial}` }
    : { ok: false, code: 'DMR_CA_ALREADY_REVOKED', message: `certificate ${serial} is already revoked` };
}

function toCertificateRecord(row: Selectable<CertificateTable>): CertificateRecord {
  return {
    serial: row.serial,
    caId: row.ca_id,
    subjectKind: row.subject_kind as CertificateSubjectKind,
    subjectId: row.subject_id,
    notBefore: row.not_before,
    notAfter: row.not_after,
    pem: row.pem,
    publicKeySha256: row.public_key_sha256,
    issuedAt: row.issued_at,
    revokedAt: row.revoked_at,
    revocationReason: row.revocation_reason as StoredRevocationReason | null,
  };
}
