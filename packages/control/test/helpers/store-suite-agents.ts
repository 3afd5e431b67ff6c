// Store contract, part 1: the agent registry (CRUD, revisions, pagination, filters).

import { describe, expect, it } from 'vitest';
import { compareCodePoints, encodeCursor } from '../../src/domain/index.js';
import type { AgentRecord, ControlStore } from '../../src/store/index.js';
import { agentInput, certificateInput, type FreshStore, okValue } from './store-fixtures.js';

async function allPages(store: ControlStore, query: Parameters<ControlStore['agents']['list']>[0] = {}): Promise<AgentRecord[][]> {
  const pages: AgentRecord[][] = [];
  let cursor: string | undefined;
  do {
    const page = okValue(await store.agents.list({ ...query, ...(cursor === undefined ? {} : { cursor }) }));
    pages.push([...page.items]);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return pages;
}

async function createAll(
  store: ControlStore,
  ids: readonly string[],
  overrides: (id: string) => Parameters<typeof agentInput>[1] = () => ({}),
) {
  await store.transaction(async (tx) => {
    for (const id of ids) okValue(await tx.agents.create(agentInput(id, overrides(id))));
  });
}

/** The agent part of the contract, on the store `ctx` gives each test. */
export function agentContract(ctx: FreshStore): void {
  describe('agents', () => {
    it('creates an agent with revision 1 and the clock time, and gives every field back from get and list', async () => {
      const input = agentInput('a-1', { authenticationCertificate: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n' });
      const created = okValue(await ctx.store.transaction((tx) => tx.agents.create(input)));
      const expected: AgentRecord = {
        ...input,
        labels: { region: 'tallinn', tier: 'gold' },
        createdAt: '2026-12-07T10:00:00.000Z',
        updatedAt: '2026-12-07T10:00:00.000Z',
        revision: 1,
      };
      expect(created).toEqual(expected);
      expect(await ctx.store.agents.get('a-1')).toEqual(expected);
      expect(okValue(await ctx.store.agents.list()).items).toEqual([expected]);
      expect(await ctx.store.agents.get('a-2')).toBeUndefined();
    });

    it('refuses a duplicate id as DMR_CONTROL_ALREADY_EXISTS and the same transaction goes on and commits', async () => {
      await createAll(ctx.store, ['dup']);
      const [again, other] = await ctx.store.transaction(async (tx) => [
        await tx.agents.create(agentInput('dup', { name: 'second' })),
        await tx.agents.create(agentInput('other')),
      ]);
      expect(again).toMatchObject({ ok: false, code: 'DMR_CONTROL_ALREADY_EXISTS' });
      expect(other?.ok).toBe(true);
      expect((await ctx.store.agents.get('dup'))?.name).toBe('Agent dup');
      expect(await ctx.store.agents.get('other')).toBeDefined();
    });

    it('keeps groups in the given order without repeats, and labels as a map', async () => {
      await createAll(ctx.store, ['g'], () => ({ groups: ['b', 'a', 'b', 'c'], labels: { z: '1', a: '2', __proto__x: '3' } }));
      const agent = await ctx.store.agents.get('g');
      expect(agent?.groups).toEqual(['b', 'a', 'c']);
      expect(agent?.labels).toEqual({ a: '2', z: '1', __proto__x: '3' });
    });

    it('updates with the expected revision: fields replaced, revision + 1, updatedAt moved, createdAt kept', async () => {
      await createAll(ctx.store, ['u']);
      ctx.clock.advanceMs(60_000);
      const patch = { name: 'Renamed', enabled: false, groups: ['x'], labels: { only: 'one' }, capabilities: [] };
      const updated = okValue(await ctx.store.transaction((tx) => tx.agents.update('u', patch, 1)));
      expect(updated).toMatchObject({
        ...patch,
        revision: 2,
        createdAt: '2026-12-07T10:00:00.000Z',
        updatedAt: '2026-12-07T10:01:00.000Z',
      });
      expect(updated.institution).toBe('Riigi Infosüsteemi Amet');
      expect(await ctx.store.agents.get('u')).toEqual(updated);
    });

    it('refuses a stale revision with the current one, and an unknown id as not found; an unconditional update applies', async () => {
      await createAll(ctx.store, ['r']);
      okValue(await ctx.store.transaction((tx) => tx.agents.update('r', { contact: 'first' }, 1)));
      const stale = await ctx.store.transaction((tx) => tx.agents.update('r', { contact: 'second' }, 1));
      expect(stale).toMatchObject({ ok: false, code: 'DMR_CONTROL_REVISION_MISMATCH', currentRevision: 2 });
      expect((await ctx.store.agents.get('r'))?.contact).toBe('first');
      const missing = await ctx.store.transaction((tx) => tx.agents.update('nope', { contact: 'x' }, 1));
      expect(missing).toMatchObject({ ok: false, code: 'DMR_CONTROL_NOT_FOUND' });
      const forced = okValue(await ctx.store.transaction((tx) => tx.agents.update('r', { contact: 'third' })));
      expect(forced).toMatchObject({ contact: 'third', revision: 3 });
    });

    it('deletes with the expected revision, with its tokens, keeping its certificates; stale and unknown are refused', async () => {
      await createAll(ctx.store, ['d']);
      await ctx.store.transaction(async (tx) => {
        okValue(
          await tx.enrollmentTokens.create({
            tokenHash: 'f'.repeat(64),
            agentId: 'd',
            expiresAt: '2026-12-08T00:00:00.000Z',
            createdBy: 'op',
          }),
        );
        okValue(await tx.certificates.insert(certificateInput('0a', { subjectId: 'd' })));
      });
      expect(await ctx.store.transaction((tx) => tx.agents.delete('d', 7))).toMatchObject({
        code: 'DMR_CONTROL_REVISION_MISMATCH',
        currentRevision: 1,
      });
      const deleted = okValue(await ctx.store.transaction((tx) => tx.agents.delete('d', 1)));
      expect(deleted.id).toBe('d');
      expect(await ctx.store.agents.get('d')).toBeUndefined();
      expect(await ctx.store.enrollmentTokens.get('f'.repeat(64))).toBeUndefined();
      expect((await ctx.store.certificates.get('0a'))?.subjectId).toBe('d');
      expect(await ctx.store.transaction((tx) => tx.agents.delete('d'))).toMatchObject({ ok: false, code: 'DMR_CONTROL_NOT_FOUND' });
    });

    it('pages through every agent once, in code point order, with a default limit of 100', async () => {
      const ids = Array.from({ length: 125 }, (_, i) => `agent-${String(i).padStart(3, '0')}`).concat([
        'Zed',
        'émile',
        '日本',
        '𝔘ni',
        '\uFFFDx',
      ]);
      await createAll(ctx.store, [...ids].reverse());
      const pages = await allPages(ctx.store);
      expect(pages.map((page) => page.length)).toEqual([100, 30]);
      expect(pages.flat().map((agent) => agent.id)).toEqual([...ids].sort(compareCodePoints));
      const small = await allPages(ctx.store, { limit: 40 });
      expect(small.map((page) => page.length)).toEqual([40, 40, 40, 10]);
    });

    it('keeps paging stable while agents are added and removed between pages', async () => {
      await createAll(ctx.store, ['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
      const first = okValue(await ctx.store.agents.list({ limit: 3 }));
      expect(first.items.map((a) => a.id)).toEqual(['b1', 'b2', 'b3']);
      await createAll(ctx.store, ['a0', 'b35']);
      await ctx.store.transaction((tx) => tx.agents.delete('b5'));
      const second = okValue(await ctx.store.agents.list({ limit: 3, cursor: first.nextCursor ?? '' }));
      expect(second.items.map((a) => a.id)).toEqual(['b35', 'b4', 'b6']);
      expect(second.nextCursor).toBeNull();
    });

    it('clamps the limit to 1…1000', async () => {
      await createAll(ctx.store, ['l1', 'l2']);
      expect(okValue(await ctx.store.agents.list({ limit: 0 })).items).toHaveLength(1);
      expect(okValue(await ctx.store.agents.list({ limit: 1.9 })).items).toHaveLength(1);
      expect(okValue(await ctx.store.agents.list({ limit: 5000 })).items).toHaveLength(2);
    });

    it('refuses a cursor it did not make as DMR_CONTROL_CURSOR_INVALID', async () => {
      for (const cursor of [
        'garbage!',
        encodeCursor('certificates', 'x'),
        encodeCursor('agents', 5),
        Buffer.from('{').toString('base64url'),
      ]) {
        expect(await ctx.store.agents.list({ cursor })).toMatchObject({ ok: false, code: 'DMR_CONTROL_CURSOR_INVALID' });
      }
    });

    it('filters by enabled, group, label, name prefix and key presence, combined and paged', async () => {
      await createAll(ctx.store, ['f1', 'f2', 'f3', 'f4', 'f5'], (id) => ({
        enabled: id !== 'f2',
        groups: id === 'f3' ? ['tax'] : ['health'],
        labels: id === 'f4' ? { tier: 'silver' } : { tier: 'gold' },
        name: { f1: 'Maksu%_bot', f2: 'Maksuamet', f3: '🇪🇪 Eesti', f4: 'maksu', f5: 'Maks' }[id] ?? id,
        authenticationCertificate: id === 'f5' ? null : 'PEM',
      }));
      const ids = async (query: Parameters<ControlStore['agents']['list']>[0]) =>
        (await allPages(ctx.store, query)).flat().map((a) => a.id);
      expect(await ids({ enabled: false })).toEqual(['f2']);
      expect(await ids({ enabled: true, limit: 1 })).toEqual(['f1', 'f3', 'f4', 'f5']);
      expect(await ids({ group: 'tax' })).toEqual(['f3']);
      expect(await ids({ label: { key: 'tier', value: 'silver' } })).toEqual(['f4']);
      expect(await ids({ label: { key: 'tier', value: 'gol' } })).toEqual([]);
      expect(await ids({ namePrefix: 'Maksu' })).toEqual(['f1', 'f2']);
      expect(await ids({ namePrefix: 'Maksu%' })).toEqual(['f1']);
      expect(await ids({ namePrefix: 'Maksu_' })).toEqual([]);
      expect(await ids({ namePrefix: '🇪🇪' })).toEqual(['f3']);
      expect(await ids({ hasAuthenticationCertificate: false })).toEqual(['f5']);
      expect(await ids({ group: 'health', enabled: true, hasAuthenticationCertificate: true, limit: 1 })).toEqual(['f1', 'f4']);
    });

    it('imports 1000 agents in one transaction with one config bump', async () => {
      const before = await ctx.store.configVersion();
      const ids = Array.from({ length: 1000 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
      const version = await ctx.store.transaction(async (tx) => {
        for (const id of ids) okValue(await tx.agents.create(agentInput(id)));
        return tx.bumpConfigVersion();
      });
      expect(version).toBe(before + 1);
      expect(await ctx.store.configVersion()).toBe(before + 1);
      const page = okValue(await ctx.store.agents.list({ limit: 1000 }));
      expect(page.items.map((a) => a.id)).toEqual(ids);
      expect(page.items[999]?.groups).toEqual(['citizens', 'tax']);
    });
  });
}
