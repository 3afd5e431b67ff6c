// Store contract, part 4: what the database itself guarantees (append-only trigger, several instances on one
// database), and opening failures.

import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { ControlStore } from '../../src/store/index.js';
import { agentInput, type FreshStore, okValue } from './store-fixtures.js';

// Direct SQL with the engine's own driver, as a person with database access could run it (constant statements).
async function rawExec(url: string, statement: string): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length));
    try {
      db.exec(statement);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The change log refuses UPDATE and DELETE even from outside the store. */
export function appendOnlyContract(ctx: FreshStore): void {
  describe('append-only change log in the database', () => {
    it('refuses UPDATE and DELETE of change_log rows by direct SQL', async () => {
      await ctx.store.transaction(async (tx) => {
        tx.changes.append({
          actor: { subject: 's', role: 'admin' },
          action: 'x',
          subjectKind: 'agent',
          subjectId: 'a',
          outcome: 'applied',
        });
      });
      await expect(rawExec(ctx.url, "update change_log set action = 'rewritten'")).rejects.toThrow(/append-only/);
      await expect(rawExec(ctx.url, 'delete from change_log')).rejects.toThrow(/append-only/);
      expect(okValue(await ctx.store.changes.list()).items).toMatchObject([{ action: 'x' }]);
    });
  });
}

async function inParallel<T>(
  stores: readonly ControlStore[],
  perStore: number,
  work: (store: ControlStore, i: number) => Promise<T>,
): Promise<T[]> {
  const runs = stores.flatMap((store) => Array.from({ length: perStore }, (_, i) => work(store, i)));
  return Promise.all(runs);
}

/** Two control instances on one PostgreSQL database (the HA set-up). */
export function twoInstanceContract(ctx: FreshStore): void {
  describe('two instances on one database', () => {
    it('never hand out the same configVersion, CA serial, CRL number or policy version', async () => {
      const second = await ctx.factory.open(ctx.url);
      try {
        const stores = [ctx.store, second];
        const versions = await inParallel(stores, 15, (store, i) =>
          store.transaction(async (tx) => {
            await tx.caState.allocateSerial('shared-ca');
            const policy = await tx.policies.insert({ document: { i }, createdBy: 'x', comment: '' });
            return { config: await tx.bumpConfigVersion(), policy: policy.version };
          }),
        );
        expect(versions.map((v) => v.config).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        expect(versions.map((v) => v.policy).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        const serials = await inParallel(stores, 20, (store) => store.transaction((tx) => tx.caState.allocateCrlNumber('shared-ca')));
        expect(serials.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(await second.caState.get('shared-ca')).toMatchObject({ lastSerial: 30, lastCrlNumber: 40 });
        expect(await second.configVersion()).toBe(30);
      } finally {
        await second.close();
      }
    });

    it('let one consumer of a token win across instances, and see each other’s agents at once', async () => {
      const second = await ctx.factory.open(ctx.url);
      try {
        await ctx.store.transaction(async (tx) => {
          okValue(await tx.agents.create(agentInput('ha')));
          okValue(
            await tx.enrollmentTokens.create({
              tokenHash: 'c'.repeat(64),
              agentId: 'ha',
              expiresAt: '2030-01-01T00:00:00Z',
              createdBy: 'op',
            }),
          );
        });
        expect((await second.agents.get('ha'))?.id).toBe('ha');
        const now = new Date('2026-12-07T10:00:00Z');
        const outcomes = await inParallel([ctx.store, second], 6, (store) =>
          store.transaction((tx) => tx.enrollmentTokens.consume('c'.repeat(64), now)),
        );
        expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      } finally {
        await second.close();
      }
    });

    it('applies concurrent If-Match updates of one agent once: the other is refused', async () => {
      await ctx.store.transaction(async (tx) => okValue(await tx.agents.create(agentInput('race'))));
      const second = await ctx.factory.open(ctx.url);
      try {
        const outcomes = await Promise.all(
          [ctx.store, second].map((store, i) => store.transaction((tx) => tx.agents.update('race', { contact: `writer-${i}` }, 1))),
        );
        expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
        expect(outcomes.find((o) => !o.ok)).toMatchObject({ code: 'DMR_CONTROL_REVISION_MISMATCH', currentRevision: 2 });
      } finally {
        await second.close();
      }
    });
  });
}
