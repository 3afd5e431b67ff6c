// Per-CA counters (serial numbers, CRL numbers), handed out atomically by one UPSERT … RETURNING.

import type { Selectable } from 'kysely';
import type { CaStateReader, CaStateWriter } from './control-store.js';
import type { CaStateRecord } from './records.js';
import { assertStorable, type RepoContext, toNumber } from './repo-context.js';
import type { CaStateTable } from './schema.js';

/** The CA-state reader over `ctx`. */
export function caStateReader(ctx: RepoContext): CaStateReader {
  return {
    get: async (caId) => {
      const row = await ctx.db.selectFrom('ca_state').selectAll().where('ca_id', '=', caId).executeTakeFirst();
      return row === undefined ? undefined : toCaStateRecord(row);
    },
  };
}

/** The CA-state writer over `ctx` (a transaction). */
export function caStateWriter(ctx: RepoContext): CaStateWriter {
  return {
    ...caStateReader(ctx),
    allocateSerial: (caId) => allocate(ctx, caId, 'last_serial'),
    allocateCrlNumber: (caId) => allocate(ctx, caId, 'last_crl_number'),
  };
}

// INSERT … ON CONFLICT DO UPDATE … RETURNING is one statement that takes the row lock: on PostgreSQL a concurrent
// allocator waits for this transaction and then reads the committed value, so no number is handed out twice.
async function allocate(ctx: RepoContext, caId: string, column: 'last_serial' | 'last_crl_number'): Promise<number> {
  assertStorable('CA state', { caId });
  const now = ctx.now();
  const row = await ctx.db
    .insertInto('ca_state')
    .values({
      ca_id: caId,
      last_serial: column === 'last_serial' ? 1 : 0,
      last_crl_number: column === 'last_crl_number' ? 1 : 0,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('ca_id').doUpdateSet((eb) => ({ [column]: eb(`ca_state.${column}`, '+', 1), updated_at: now })))
    .returning(column)
    .executeTakeFirstOrThrow();
  return toNumber(
    column === 'last_serial'
      ? (row as { last_serial: number | string }).last_serial
      : (row as { last_crl_number: number | string }).last_crl_number,
  );
}

function toCaStateRecord(row: Selectable<CaStateTable>): CaStateRecord {
  return {
    caId: row.ca_id,
    lastSerial: toNumber(row.last_serial),
    lastCrlNumber: toNumber(row.last_crl_number),
    updatedAt: row.updated_at,
  };
}
