// Store contract, part 2: certificates, CA counters, enrollment tokens, policies and servers.

import { describe, expect, it } from 'vitest';
import { hashEnrollmentToken } from '../../src/domain/index.js';
import type { ControlStore } from '../../src/store/index.js';
import { agentInput, certificateInput, type FreshStore, okValue } from './store-fixtures.js';

const TOKEN = hashEnrollmentToken('one-time-token');

async function withAgentAndToken(store: ControlStore, expiresAt = '2026-12-07T10:15:00.000Z'): Promise<void> {
  await store.transaction(async (tx) => {
    okValue(await tx.agents.create(agentInput('enrollee')));
    okValue(await tx.enrollmentTokens.create({ tokenHash: TOKEN, agentId: 'enrollee', expiresAt, createdBy: 'operator-1' }));
  });
}

/** Certificates and CA counters. */
export function certificateContract(ctx: FreshStore): void {
  describe('certificates', () => {
    it('records a certificate, refuses its serial twice, and lists by subject, CA, expiry and revocation', async () => {
      const inputs = [
        certificateInput('01', { subjectId: 'a', notAfter: '2027-01-01T00:00:00.000Z' }),
        certificateInput('02', { subjectId: 'b', notAfter: '2027-06-01T00:00:00+03:00' }),
        certificateInput('03', { subjectKind: 'server', subjectId: 'dmr-1', caId: 'agents-2027' }),
      ];
      await ctx.store.transaction(async (tx) => {
        for (const input of inputs) okValue(await tx.certificates.insert(input));
        expect(await tx.certificates.insert(certificateInput('01'))).toMatchObject({ ok: false, code: 'DMR_CONTROL_ALREADY_EXISTS' });
      });
      expect(await ctx.store.certificates.get('02')).toEqual({
        ...inputs[1],
        notAfter: '2027-05-31T21:00:00.000Z',
        issuedAt: '2026-12-07T10:00:00.000Z',
        revokedAt: null,
        revocationReason: null,
      });
      const serials = async (query: Parameters<ControlStore['certificates']['list']>[0]) =>
        okValue(await ctx.store.certificates.list(query)).items.map((c) => c.serial);
      expect(await serials({})).toEqual(['01', '02', '03']);
      expect(await serials({ subjectKind: 'agent', subjectId: 'b' })).toEqual(['02']);
      expect(await serials({ caId: 'agents-2027' })).toEqual(['03']);
      expect(await serials({ expiringBefore: '2027-02-01T00:00:00.000Z' })).toEqual(['01']);
      expect(await serials({ revoked: true })).toEqual([]);
      const firstPage = okValue(await ctx.store.certificates.list({ limit: 2 }));
      expect(await serials({ cursor: firstPage.nextCursor ?? '' })).toEqual(['03']);
    });

    it('revokes once with an RFC 5280 reason; again is DMR_CA_ALREADY_REVOKED, unknown is DMR_CA_NOT_ISSUED', async () => {
      await ctx.store.transaction(async (tx) => {
        okValue(await tx.certificates.insert(certificateInput('0a')));
        okValue(await tx.certificates.insert(certificateInput('0b', { caId: 'other-ca' })));
      });
      ctx.clock.advanceMs(1000);
      const revoked = okValue(await ctx.store.transaction((tx) => tx.certificates.revoke('0a', 'keyCompromise')));
      expect(revoked).toMatchObject({ serial: '0a', revokedAt: '2026-12-07T10:00:01.000Z', revocationReason: 'keyCompromise' });
      expect(await ctx.store.transaction((tx) => tx.certificates.revoke('0a', 'superseded'))).toMatchObject({
        ok: false,
        code: 'DMR_CA_ALREADY_REVOKED',
      });
      expect(await ctx.store.transaction((tx) => tx.certificates.revoke('ff', 'superseded'))).toMatchObject({
        ok: false,
        code: 'DMR_CA_NOT_ISSUED',
      });
      expect(await ctx.store.certificates.revokedBy('agents-2026')).toEqual([
        { serial: '0a', revokedAt: '2026-12-07T10:00:01.000Z', reason: 'keyCompromise' },
      ]);
      expect(await ctx.store.certificates.revokedBy('other-ca')).toEqual([]);
      expect(okValue(await ctx.store.certificates.list({ revoked: false })).items.map((c) => c.serial)).toEqual(['0b']);
    });

    it('hands out serials and CRL numbers 1, 2, … per CA, and gives back those of a rolled-back transaction', async () => {
      expect(await ctx.store.caState.get('ca-a')).toBeUndefined();
      const first = await ctx.store.transaction(async (tx) => [
        await tx.caState.allocateSerial('ca-a'),
        await tx.caState.allocateSerial('ca-a'),
        await tx.caState.allocateCrlNumber('ca-a'),
        await tx.caState.allocateSerial('ca-b'),
      ]);
      expect(first).toEqual([1, 2, 1, 1]);
      await expect(
        ctx.store.transaction(async (tx) => {
          await tx.caState.allocateSerial('ca-a');
          throw new Error('CA signing failed');
        }),
      ).rejects.toThrow('CA signing failed');
      expect(await ctx.store.transaction((tx) => tx.caState.allocateSerial('ca-a'))).toBe(3);
      expect(await ctx.store.caState.get('ca-a')).toEqual({
        caId: 'ca-a',
        lastSerial: 3,
        lastCrlNumber: 1,
        updatedAt: '2026-12-07T10:00:00.000Z',
      });
    });
  });
}

/** Enrollment tokens. */
export function tokenContract(ctx: FreshStore): void {
  describe('enrollment tokens', () => {
    it('stores the hash, not the token, and refuses a token for an unknown agent or a reused hash', async () => {
      await withAgentAndToken(ctx.store);
      expect(await ctx.store.enrollmentTokens.get(TOKEN)).toEqual({
        tokenHash: TOKEN,
        agentId: 'enrollee',
        createdAt: '2026-12-07T10:00:00.000Z',
        expiresAt: '2026-12-07T10:15:00.000Z',
        createdBy: 'operator-1',
        usedAt: null,
      });
      const again = { tokenHash: TOKEN, agentId: 'enrollee', expiresAt: '2026-12-08T00:00:00.000Z', createdBy: 'x' };
      expect(await ctx.store.transaction((tx) => tx.enrollmentTokens.create(again))).toMatchObject({
        ok: false,
        code: 'DMR_CONTROL_ALREADY_EXISTS',
      });
      const unknownAgent = { ...again, tokenHash: hashEnrollmentToken('other'), agentId: 'ghost' };
      expect(await ctx.store.transaction((tx) => tx.enrollmentTokens.create(unknownAgent))).toMatchObject({
        ok: false,
        code: 'DMR_CONTROL_NOT_FOUND',
      });
      expect(okValue(await ctx.store.enrollmentTokens.list({ agentId: 'enrollee' })).items).toHaveLength(1);
    });

    it('consumes a token once: then DMR_CONTROL_TOKEN_USED; an unknown one is DMR_CONTROL_TOKEN_UNKNOWN', async () => {
      await withAgentAndToken(ctx.store);
      const now = new Date('2026-12-07T10:05:00.000Z');
      const used = okValue(await ctx.store.transaction((tx) => tx.enrollmentTokens.consume(TOKEN, now)));
      expect(used).toMatchObject({ agentId: 'enrollee', usedAt: '2026-12-07T10:05:00.000Z' });
      expect(await ctx.store.transaction((tx) => tx.enrollmentTokens.consume(TOKEN, now))).toMatchObject({
        ok: false,
        code: 'DMR_CONTROL_TOKEN_USED',
      });
      expect(await ctx.store.transaction((tx) => tx.enrollmentTokens.consume('0'.repeat(64), now))).toMatchObject({
        ok: false,
        code: 'DMR_CONTROL_TOKEN_UNKNOWN',
      });
    });

    it('refuses a token at and after its expiry as DMR_CONTROL_TOKEN_EXPIRED, and leaves it unused', async () => {
      await withAgentAndToken(ctx.store);
      const atExpiry = new Date('2026-12-07T10:15:00.000Z');
      expect(await ctx.store.transaction((tx) => tx.enrollmentTokens.consume(TOKEN, atExpiry))).toMatchObject({
        ok: false,
        code: 'DMR_CONTROL_TOKEN_EXPIRED',
      });
      expect((await ctx.store.enrollmentTokens.get(TOKEN))?.usedAt).toBeNull();
      const justBefore = new Date('2026-12-07T10:14:59.999Z');
      expect((await ctx.store.transaction((tx) => tx.enrollmentTokens.consume(TOKEN, justBefore))).ok).toBe(true);
    });

    it('lets exactly one of 12 concurrent consumers win', async () => {
      await withAgentAndToken(ctx.store);
      const now = new Date('2026-12-07T10:01:00.000Z');
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, () => ctx.store.transaction((tx) => tx.enrollmentTokens.consume(TOKEN, now))),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.code))).toEqual(Array(11).fill('DMR_CONTROL_TOKEN_USED'));
    });
  });
}

/** Policies and servers. */
export function policyAndServerContract(ctx: FreshStore): void {
  describe('policies and servers', () => {
    it('numbers policy versions 1, 2, 3 and gives back documents, the latest and pages', async () => {
      const documents = [
        { rules: [] },
        { rules: [{ allow: 'tax→police', note: 'NUL \u0000 in JSON is fine' }] },
        ['any', 'json', 1.5, null, true],
      ];
      const versions = await ctx.store.transaction(async (tx) => {
        const out: number[] = [];
        for (const document of documents)
          out.push((await tx.policies.insert({ document, createdBy: 'admin-1', comment: `v${out.length + 1}` })).version);
        return out;
      });
      expect(versions).toEqual([1, 2, 3]);
      expect(await ctx.store.policies.get(2)).toEqual({
        version: 2,
        document: documents[1],
        createdAt: '2026-12-07T10:00:00.000Z',
        createdBy: 'admin-1',
        comment: 'v2',
      });
      expect((await ctx.store.policies.latest())?.document).toEqual(documents[2]);
      expect(await ctx.store.policies.get(4)).toBeUndefined();
      const first = okValue(await ctx.store.policies.list({ limit: 2 }));
      expect(first.items.map((p) => p.version)).toEqual([1, 2]);
      expect(okValue(await ctx.store.policies.list({ cursor: first.nextCursor ?? '' })).items.map((p) => p.version)).toEqual([3]);
    });

    it('has no latest policy in a new store', async () => {
      expect(await ctx.store.policies.latest()).toBeUndefined();
    });

    it('records server reports: firstSeenAt kept, the rest replaced, and no config bump', async () => {
      const report = {
        instanceId: 'dmr-a',
        name: 'dmr-1.example.ee',
        configVersion: 0,
        crlNumbers: { 'agents-2026': 4 },
        softwareVersion: '0.1.0',
        startedAt: '2026-12-07T09:00:00.000Z',
      };
      await ctx.store.transaction((tx) => tx.servers.report(report));
      ctx.clock.advanceMs(30_000);
      const second = await ctx.store.transaction((tx) =>
        tx.servers.report({ ...report, configVersion: 7, crlNumbers: { 'agents-2026': 5 }, startedAt: null }),
      );
      expect(second).toEqual({
        ...report,
        configVersion: 7,
        crlNumbers: { 'agents-2026': 5 },
        startedAt: null,
        firstSeenAt: '2026-12-07T10:00:00.000Z',
        lastSyncAt: '2026-12-07T10:00:30.000Z',
      });
      expect(okValue(await ctx.store.servers.list()).items).toEqual([second]);
      expect(await ctx.store.configVersion()).toBe(0);
    });
  });
}
