// Signed CRLs and service enrollment tokens (see lifecycle-records.ts). Neither bumps the configVersion by itself:
// the lifecycle's transactions bump explicitly when servers must re-fetch.

import type { Selectable } from 'kysely';
import type { CrlReader, CrlWriter, ServiceTokenReader, ServiceTokenWriter } from './control-store.js';
import type { CrlRecord, ServiceSubjectKind, ServiceTokenInput, ServiceTokenRecord } from './lifecycle-records.js';
import type { CrlTable, ServiceTokenTable } from './lifecycle-schema.js';
import type { AlreadyExists, Outcome, TokenRefusal } from './queries.js';
import { assertStorable, type RepoContext, toIsoTime, toNumber } from './repo-context.js';

/** CRLs kept per CA: the one in force and enough history to see what servers may still hold. */
export const CRLS_KEPT_PER_CA = 50;

/** The CRL reader over `ctx`. */
export function crlReader(ctx: RepoContext): CrlReader {
  return {
    latest: async (caId) => {
      const row = await ctx.db
        .selectFrom('crls')
        .selectAll()
        .where('ca_id', '=', caId)
        .orderBy('crl_number', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : toCrlRecord(row);
    },
  };
}

/** The CRL writer over `ctx` (a transaction). */
export function crlWriter(ctx: RepoContext): CrlWriter {
  return { ...crlReader(ctx), save: (record) => saveCrl(ctx, record) };
}

async function saveCrl(ctx: RepoContext, record: CrlRecord): Promise<void> {
  assertStorable('CRL', record);
  await ctx.db
    .insertInto('crls')
    .values({
      ca_id: record.caId,
      crl_number: record.crlNumber,
      this_update: toIsoTime(record.thisUpdate, 'thisUpdate'),
      next_update: toIsoTime(record.nextUpdate, 'nextUpdate'),
      pem: record.pem,
      created_at: ctx.now(),
    })
    .execute();
  await ctx.db
    .deleteFrom('crls')
    .where('ca_id', '=', record.caId)
    .where('crl_number', '<=', record.crlNumber - CRLS_KEPT_PER_CA)
    .execute();
}

function toCrlRecord(row: Selectable<CrlTable>): CrlRecord {
  return { caId: row.ca_id, crlNumber: toNumber(row.crl_number), thisUpdate: row.this_update, nextUpdate: row.next_update, pem: row.pem };
}

/** The service-token reader over `ctx`. */
export function serviceTokenReader(ctx: RepoContext): ServiceTokenReader {
  return { get: (tokenHash) => getServiceToken(ctx, tokenHash) };
}

/** The service-token writer over `ctx` (a transaction). */
export function serviceTokenWriter(ctx: RepoContext): ServiceTokenWriter {
  return {
    ...serviceTokenReader(ctx),
    create: (input) => createServiceToken(ctx, input),
    consume: (tokenHash, now) => consumeServiceToken(ctx, tokenHash, now),
  };
}

async function getServiceToken(ctx: RepoContext, tokenHash: string): Promise<ServiceTokenRecord | undefined> {
  const row = await ctx.db.selectFrom('service_enrollment_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  return row === undefined ? undefined : toServiceTokenRecord(row);
}

async function createServiceToken(ctx: RepoContext, input: ServiceTokenInput): Promise<Outcome<ServiceTokenRecord, AlreadyExists>> {
  assertStorable('service enrollment token', input);
  const row: Selectable<ServiceTokenTable> = {
    token_hash: input.tokenHash,
    subject_kind: input.subjectKind,
    subject_id: input.subjectId,
    dns_names: JSON.stringify(input.dnsNames),
    ip_addresses: JSON.stringify(input.ipAddresses),
    created_at: ctx.now(),
    expires_at: toIsoTime(input.expiresAt, 'expiresAt'),
    created_by: input.createdBy,
    used_at: null,
  };
  const result = await ctx.db
    .insertInto('service_enrollment_tokens')
    .values(row)
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) {
    return { ok: false, code: 'DMR_CONTROL_ALREADY_EXISTS', message: 'an enrollment token with this hash already exists' };
  }
  return { ok: true, value: toServiceTokenRecord(row) };
}

// one conditional UPDATE, as for agent tokens: of concurrent consumers exactly one matches the row
async function consumeServiceToken(ctx: RepoContext, tokenHash: string, now: Date): Promise<Outcome<ServiceTokenRecord, TokenRefusal>> {
  const at = toIsoTime(now, 'now');
  const used = await ctx.db
    .updateTable('service_enrollment_tokens')
    .set({ used_at: at })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .returningAll()
    .executeTakeFirst();
  if (used !== undefined) return { ok: true, value: toServiceTokenRecord(used) };
  const row = await getServiceToken(ctx, tokenHash);
  if (row === undefined) return { ok: false, code: 'DMR_CONTROL_TOKEN_UNKNOWN', message: 'no such enrollment token' };
  if (row.usedAt !== null) return { ok: false, code: 'DMR_CONTROL_TOKEN_USED', message: `enrollment token was used at ${row.usedAt}` };
  return { ok: false, code: 'DMR_CONTROL_TOKEN_EXPIRED', message: `enrollment token expired at ${row.expiresAt}` };
}

function toServiceTokenRecord(row: Selectable<ServiceTokenTable>): ServiceTokenRecord {
  return {
    tokenHash: row.token_hash,
    subjectKind: row.subject_kind as ServiceSubjectKind,
    subjectId: row.subject_id,
    dnsNames: JSON.parse(row.dns_names) as string[],
    ipAddresses: JSON.parse(row.ip_addresses) as string[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    usedAt: row.used_at,
  };
}
