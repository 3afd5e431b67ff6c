// Store contract, part 4: what the database itself guarantees (append-only trigger, several instances on one
// database), and opening failures.

import { DmrError } from '@dmr/shared/base';
import { findFreePort, type PostgresCluster } from '@dmr/testkit';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type ControlStore, openControlStore } from '../../src/store/index.js';
import { agentInput, capturingLogger, type FreshStore, okValue } from './store-fixtures.js';

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

async function openFailure(url: string): Promise<DmrError> {
  const error = await openControlStore(url, { log: capturingLogger().log }).then(
    async (store) => {
      await store.close();
      throw new Error(`opening ${url} succeeded`);
    },
    (failure: unknown) => failure,
  );
  if (!(error instanceof DmrError)) throw error;
  return error;
}

/** Opening refuses what it cannot serve, before anything is served. */
export function openFailureContract(ctx: FreshStore): void {
  describe('opening', () => {
    it('refuses a database migrated by a newer release (an unknown migration) as DMR_CONTROL_STORE_FAILED', async () => {
      await ctx.store.close();
      await rawExec(
        ctx.url,
        "insert into dmr_control_migrations (name, timestamp) values ('2099-01-01-001-future', '2099-01-01T00:00:00.000Z')",
      );
      const error = await openFailure(ctx.url);
      expect(error.code).toBe('DMR_CONTROL_STORE_FAILED');
      expect(error.message).toMatch(/2099-01-01-001-future/);
    });

    it('refuses a URL of another scheme as DMR_CONFIG_INVALID', async () => {
      expect((await openFailure('mysql://root:pw@127.0.0.1/control')).code).toBe('DMR_CONFIG_INVALID');
    });
  });
}

/** PostgreSQL-only opening failures, on the test's cluster. */
export function postgresOpenFailureContract(cluster: () => PostgresCluster): void {
  describe('opening PostgreSQL', () => {
    it('refuses a wrong password or a closed port as DMR_CONTROL_STORE_FAILED without printing the password', async () => {
      const wrong = new URL(cluster().url);
      wrong.password = 'not-the-password-42';
      const refused = await openFailure(wrong.toString());
      expect(refused.code).toBe('DMR_CONTROL_STORE_FAILED');
      expect(refused.message).not.toContain('not-the-password-42');
      wrong.port = String(await findFreePort());
      const closed = await openFailure(wrong.toString());
      expect(closed.code).toBe('DMR_CONTROL_STORE_FAILED');
      expect(closed.message).toContain(':***@');
    });

    it('refuses a database whose encoding is not UTF8', async () => {
      await rawExec(cluster().url, "create database latin1_store encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0");
      const error = await openFailure(cluster().urlFor('latin1_store'));
      expect(error.code).toBe('DMR_CONTROL_STORE_FAILED');
      expect(error.message).toMatch(/LATIN1/);
    });
  });
}

/** SQLite-only opening failures. */
export function sqliteOpenFailureContract(): void {
  describe('opening SQLite', () => {
    it('refuses a file in a directory that does not exist as DMR_CONTROL_STORE_FAILED', async () => {
      const error = await openFailure('sqlite:/nonexistent-dmr-dir/control.db');
      expect(error.code).toBe('DMR_CONTROL_STORE_FAILED');
      expect(error.message).toContain('/nonexistent-dmr-dir/control.db');
    });
  });
}
