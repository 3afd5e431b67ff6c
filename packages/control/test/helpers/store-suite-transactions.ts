// Store contract, part 3: transactions, the configVersion rule, the change log, text round-trips, reopening.

import { DmrError } from '@dmr/shared/base';
import { describe, expect, it } from 'vitest';
import { canonicalSha256 } from '../../src/domain/index.js';
import type { ChangeInput, ControlStore } from '../../src/store/index.js';
import { agentInput, type FreshStore, okValue } from './store-fixtures.js';

const ADMIN = { subject: 'CN=Mari Maasikas,urn:dmr:role:admin:mari', role: 'admin' };

function change(subjectId: string, overrides: Partial<ChangeInput> = {}): ChangeInput {
  return { actor: ADMIN, action: 'agent.create', subjectKind: 'agent', subjectId, outcome: 'applied', ...overrides };
}

async function changes(store: ControlStore, query: Parameters<ControlStore['changes']['list']>[0] = {}) {
  return okValue(await store.changes.list({ limit: 1000, ...query })).items;
}

/** configVersion and rollback. */
export function transactionContract(ctx: FreshStore): void {
  describe('transactions and configVersion', () => {
    it('starts at 0 and bumps exactly once per transaction with config writes, however many', async () => {
      expect(await ctx.store.configVersion()).toBe(0);
      await ctx.store.transaction(async (tx) => {
        for (const id of ['c1', 'c2', 'c3']) okValue(await tx.agents.create(agentInput(id)));
      });
      expect(await ctx.store.configVersion()).toBe(1);
      const explicit = await ctx.store.transaction(async (tx) => {
        okValue(await tx.agents.update('c1', { enabled: false }));
        const bumped = await tx.bumpConfigVersion();
        expect(await tx.bumpConfigVersion()).toBe(bumped);
        expect(await tx.configVersion()).toBe(bumped);
        return bumped;
      });
      expect(explicit).toBe(2);
      await ctx.store.transaction((tx) => tx.policies.insert({ document: {}, createdBy: 'a', comment: '' }));
      expect(await ctx.store.configVersion()).toBe(3);
    });

    it('does not bump for reads, server reports, tokens and CA numbers, nor for refused writes', async () => {
      await ctx.store.transaction(async (tx) => okValue(await tx.agents.create(agentInput('n1'))));
      await ctx.store.transaction(async (tx) => {
        await tx.agents.list();
        await tx.servers.report({ instanceId: 's', name: 's', configVersion: 1, crlNumbers: {}, softwareVersion: '1', startedAt: null });
        okValue(
          await tx.enrollmentTokens.create({
            tokenHash: 'a'.repeat(64),
            agentId: 'n1',
            expiresAt: '2027-01-01T00:00:00Z',
            createdBy: 'op',
          }),
        );
        await tx.caState.allocateSerial('ca');
        expect(await tx.agents.create(agentInput('n1'))).toMatchObject({ ok: false });
        expect(await tx.agents.update('n1', {}, 99)).toMatchObject({ ok: false });
      });
      expect(await ctx.store.configVersion()).toBe(1);
    });

    it('lets a transaction bump on purpose, and strictly increases across transactions', async () => {
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) seen.push(await ctx.store.transaction((tx) => tx.bumpConfigVersion()));
      expect(seen).toEqual([1, 2, 3, 4, 5]);
    });

    it('rolls back everything on a throw: records, configVersion and change log; the error reaches the caller unchanged', async () => {
      const failure = new Error('validation failed half-way');
      const attempt = ctx.store.transaction(async (tx) => {
        okValue(await tx.agents.create(agentInput('gone')));
        await tx.policies.insert({ document: { x: 1 }, createdBy: 'a', comment: '' });
        await tx.bumpConfigVersion();
        tx.changes.append(change('gone'));
        throw failure;
      });
      await expect(attempt).rejects.toBe(failure);
      expect(await ctx.store.agents.get('gone')).toBeUndefined();
      expect(await ctx.store.policies.latest()).toBeUndefined();
      expect(await ctx.store.configVersion()).toBe(0);
      expect(await changes(ctx.store)).toEqual([]);
      const after = await ctx.store.transaction((tx) => tx.policies.insert({ document: {}, createdBy: 'a', comment: '' }));
      expect(after.version).toBe(1);
    });

    it('gives a consistent snapshot with configVersion and agents together', async () => {
      await ctx.store.transaction(async (tx) => okValue(await tx.agents.create(agentInput('s1'))));
      const view = await ctx.store.snapshot(async (reader) => ({
        version: await reader.configVersion(),
        ids: okValue(await reader.agents.list()).items.map((a) => a.id),
      }));
      expect(view).toEqual({ version: 1, ids: ['s1'] });
    });
  });
}

/** The append-only change log. */
export function changeLogContract(ctx: FreshStore): void {
  describe('change log', () => {
    it('records each entry with the transaction’s configVersion and the hashes of the records', async () => {
      const created = await ctx.store.transaction(async (tx) => {
        const agent = okValue(await tx.agents.create(agentInput('h1')));
        tx.changes.append(change('h1', { after: agent }));
        return agent;
      });
      ctx.clock.advanceMs(5000);
      const updated = await ctx.store.transaction(async (tx) => {
        const agent = okValue(await tx.agents.update('h1', { name: 'New' }, 1));
        tx.changes.append(change('h1', { action: 'agent.update', before: created, after: agent }));
        return agent;
      });
      expect(await changes(ctx.store)).toEqual([
        {
          seq: expect.any(Number),
          at: '2026-12-07T10:00:00.000Z',
          actor: ADMIN,
          action: 'agent.create',
          subjectKind: 'agent',
          subjectId: 'h1',
          beforeHash: null,
          afterHash: canonicalSha256(created),
          configVersion: 1,
          outcome: 'applied',
          code: null,
        },
        {
          seq: expect.any(Number),
          at: '2026-12-07T10:00:05.000Z',
          actor: ADMIN,
          action: 'agent.update',
          subjectKind: 'agent',
          subjectId: 'h1',
          beforeHash: canonicalSha256(created),
          afterHash: canonicalSha256(updated),
          configVersion: 2,
          outcome: 'applied',
          code: null,
        },
      ]);
    });

    it('records refusals under the current configVersion without bumping it', async () => {
      await ctx.store.transaction((tx) => tx.bumpConfigVersion());
      await ctx.store.transaction(async (tx) => {
        tx.changes.append(
          change('/v1/agents', {
            actor: { subject: '(none)', role: 'none' },
            action: 'request.refused',
            subjectKind: 'route',
            outcome: 'refused',
            code: 'DMR_CONTROL_CERTIFICATE_REQUIRED',
          }),
        );
      });
      expect(await ctx.store.configVersion()).toBe(1);
      expect(await changes(ctx.store)).toMatchObject([
        { outcome: 'refused', code: 'DMR_CONTROL_CERTIFICATE_REQUIRED', configVersion: 1, beforeHash: null, afterHash: null },
      ]);
    });

    it('filters and pages by seq, which increases', async () => {
      await ctx.store.transaction(async (tx) => {
        for (let i = 0; i < 7; i++)
          tx.changes.append(change(`p${i}`, { outcome: i % 2 === 0 ? 'applied' : 'refused', action: i < 3 ? 'a' : 'b' }));
      });
      const all = await changes(ctx.store);
      expect(all.map((c) => c.subjectId)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
      expect(all.map((c) => c.seq)).toEqual([...all.map((c) => c.seq)].sort((a, b) => a - b));
      expect((await changes(ctx.store, { outcome: 'refused' })).map((c) => c.subjectId)).toEqual(['p1', 'p3', 'p5']);
      expect((await changes(ctx.store, { action: 'b', subjectKind: 'agent' })).map((c) => c.subjectId)).toEqual(['p3', 'p4', 'p5', 'p6']);
      expect((await changes(ctx.store, { subjectId: 'p4' })).map((c) => c.subjectId)).toEqual(['p4']);
      expect(await changes(ctx.store, { since: '2026-12-07T10:00:00.001Z' })).toEqual([]);
      const page = okValue(await ctx.store.changes.list({ limit: 4 }));
      const rest = okValue(await ctx.store.changes.list({ limit: 4, cursor: page.nextCursor ?? '' }));
      expect([...page.items, ...rest.items]).toEqual(all);
      expect(rest.nextCursor).toBeNull();
    });

    it('writes 1000 queued entries of one transaction (batched inserts)', async () => {
      await ctx.store.transaction(async (tx) => {
        for (let i = 0; i < 1000; i++) tx.changes.append(change(`bulk-${i}`));
      });
      expect(await changes(ctx.store)).toHaveLength(1000);
    });
  });
}

const AWKWARD = [
  "'; DROP TABLE agents; --",
  'Robert"); DELETE FROM change_log WHERE ("1"="1',
  '😀👩🏽‍💻🇪🇪',
  'שלום עולם ‮RTL',
  'e\u0301 vs é',
  'back\\slash %_ \u2028\u2029 tab\t nl\n',
  '\uFFFF\uD83D\uDE00 edge of the BMP',
  'x'.repeat(70_000),
];

/** Text round-trips and refusals. */
export function textContract(ctx: FreshStore): void {
  describe('text', () => {
    it('stores SQL-ish, emoji, RTL, combining and very long strings in every field exactly', async () => {
      const inputs = AWKWARD.map((text, i) =>
        agentInput(`t${i}${text.slice(0, 20)}`, {
          name: text,
          institution: text,
          contact: text,
          labels: { [text.slice(0, 50)]: text },
          groups: [text.slice(0, 80)],
          authenticationCertificate: text,
          capabilities: [text],
        }),
      );
      await ctx.store.transaction(async (tx) => {
        for (const input of inputs) okValue(await tx.agents.create(input));
      });
      for (const input of inputs) {
        const stored = await ctx.store.agents.get(input.id);
        expect(stored).toMatchObject({ ...input, revision: 1 });
      }
      expect(okValue(await ctx.store.agents.list({ namePrefix: AWKWARD[0] })).items).toHaveLength(1);
    });

    it('refuses NUL and lone surrogates as DMR_CONTROL_TEXT_UNSTORABLE naming the field, with nothing written', async () => {
      const cases: [Parameters<typeof agentInput>[1], string][] = [
        [{ name: 'a\u0000b' }, 'name'],
        [{ labels: { team: 'x\u0000' } }, 'labels.team'],
        [{ groups: ['ok', '\uD800'] }, 'groups[1]'],
        [{ contact: 'lone low \uDC00' }, 'contact'],
      ];
      for (const [overrides, field] of cases) {
        const attempt = ctx.store.transaction(async (tx) => {
          okValue(await tx.agents.create(agentInput('fine')));
          return tx.agents.create(agentInput('bad', overrides));
        });
        await expect(attempt).rejects.toSatisfy(
          (error: unknown) => error instanceof DmrError && error.code === 'DMR_CONTROL_TEXT_UNSTORABLE' && error.message.includes(field),
        );
      }
      expect(okValue(await ctx.store.agents.list()).items).toEqual([]);
      expect(await ctx.store.configVersion()).toBe(0);
    });
  });
}

/** Reopening a store keeps its data and runs no migration twice. */
export function reopenContract(ctx: FreshStore): void {
  describe('reopening', () => {
    it('keeps data, configVersion and the change log across close and open', async () => {
      await ctx.store.transaction(async (tx) => {
        okValue(await tx.agents.create(agentInput('kept')));
        tx.changes.append(change('kept'));
      });
      const again = await ctx.factory.open(ctx.url, ctx.clock);
      try {
        expect((await again.agents.get('kept'))?.revision).toBe(1);
        expect(await again.configVersion()).toBe(1);
        expect(okValue(await again.changes.list()).items).toHaveLength(1);
      } finally {
        await again.close();
      }
    });
  });
}
