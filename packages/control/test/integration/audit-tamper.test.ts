// Tamper evidence on both engines: an attacker with database access drops the append-only triggers and edits,
// deletes or reorders entries, or forges a head; `verifyAuditLog` and `dmrctl audit verify` name the first bad
// entry or head precisely.

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent } from '@dmr/shared/audit';
import { type PostgresCluster, startPostgres } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseCaBundle,
  type TreeHeadSigner,
  treeHeadJson,
  verifyAuditLog,
  verifyConsistency,
  verifyInclusion,
} from '../../src/audit/index.js';
import { runCli } from '../../src/cli/program.js';
import { auditSigner, collect, dropAppendOnly, fillLog, type MemoryCa, memoryCa, openAudit, rawSql } from '../helpers/audit-fixture.js';
import { makeTempDir } from './helpers/temp-dir.js';

const COUNT = 50;
const EVERY = 10;

interface Setup {
  ca: MemoryCa;
  signer: TreeHeadSigner;
  rogue: TreeHeadSigner;
  caFile: string;
  fresh: () => Promise<string>;
}

async function verifyAt(setup: Setup, url: string, range: { from?: number; to?: number } = {}) {
  const store = await openAudit(url);
  try {
    return await verifyAuditLog({
      entries: store.entries(),
      heads: await store.heads(),
      trustedCas: parseCaBundle(setup.ca.pem),
      ...range,
    });
  } finally {
    await store.close();
  }
}

async function filled(setup: Setup): Promise<{ url: string; events: AuditEvent[] }> {
  const url = await setup.fresh();
  const store = await openAudit(url);
  try {
    return { url, events: await fillLog(store, setup.signer, COUNT, EVERY) };
  } finally {
    await store.close();
  }
}

function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, { env: {} }).then((code) => ({
    code,
    out: out.join(''),
    err: err.join(''),
  }));
}

function tamperSuite(getSetup: () => Setup): void {
  it('an intact log verifies, in full and by range, and the append-only triggers refuse edits', async () => {
    const setup = getSetup();
    const { url } = await filled(setup);
    expect(await verifyAt(setup, url)).toEqual({ ok: true, entriesChecked: COUNT, headsChecked: COUNT / EVERY, verifiedSize: COUNT });
    const ranged = await verifyAt(setup, url, { from: 21, to: 25 });
    expect(ranged).toMatchObject({ ok: true, entriesChecked: 10, verifiedSize: 30 });
    await expect(rawSql(url, ["update audit_entries set body = 'x' where seq = 3"])).rejects.toThrow(/append-only/);
    await expect(rawSql(url, ['delete from audit_tree_heads where size = 10'])).rejects.toThrow(/append-only/);
    const run = await cli(['audit', 'verify', '--database', url, '--ca-file', setup.caFile]);
    expect(run).toMatchObject({
      code: 0,
      out: `audit log verified: ${COUNT} entries, ${COUNT / EVERY} signed heads, signed size ${COUNT}\n`,
    });
  });

  it('names an entry whose body was edited', async () => {
    const setup = getSetup();
    const { url, events } = await filled(setup);
    await rawSql(url, [
      ...dropAppendOnly(url, 'audit_entries'),
      "update audit_entries set body = replace(body, 'admin:alice', 'admin:mallory') where seq = 23",
    ]);
    const report = await verifyAt(setup, url);
    expect(report.finding).toMatchObject({ kind: 'altered', seq: 23, eventId: events[22]?.eventId });
    const run = await cli(['audit', 'verify', '--database', url, '--ca-file', setup.caFile]);
    expect(run.code).toBe(1);
    expect(run.err).toContain('DMR_AUDIT_VERIFY_FAILED');
    expect(run.err).toContain(`entry seq 23 (eventId ${events[22]?.eventId}) was altered`);
  });

  it('names the head range when an edit also rewrote the leaf hash', async () => {
    const setup = getSetup();
    const { url } = await filled(setup);
    const store = await openAudit(url);
    const [row] = await collect(store.entries(23, 23));
    await store.close();
    const forged = (row?.body ?? '').replace('admin:alice', 'admin:mallory');
    const { leafHash } = await import('../../src/audit/index.js');
    const hash = leafHash(Buffer.from(forged)).toString('hex');
    await rawSql(url, [
      ...dropAppendOnly(url, 'audit_entries'),
      `update audit_entries set body = '${forged.replaceAll("'", "''")}', leaf_hash = '${hash}' where seq = 23`,
    ]);
    expect((await verifyAt(setup, url)).finding).toMatchObject({ kind: 'head-mismatch', headSize: 30, seq: 21 });
  });

  it('names a deleted entry, and entries cut off the end', async () => {
    const setup = getSetup();
    const { url } = await filled(setup);
    await rawSql(url, [...dropAppendOnly(url, 'audit_entries'), 'delete from audit_entries where seq = 17']);
    expect((await verifyAt(setup, url)).finding).toMatchObject({ kind: 'removed', seq: 17 });
    const second = await filled(setup);
    await rawSql(second.url, [...dropAppendOnly(second.url, 'audit_entries'), 'delete from audit_entries where seq >= 48']);
    expect((await verifyAt(setup, second.url)).finding).toMatchObject({ kind: 'removed', seq: 48, headSize: 50 });
  });

  it('names the first of two swapped entries', async () => {
    const setup = getSetup();
    const { url, events } = await filled(setup);
    await rawSql(url, [
      ...dropAppendOnly(url, 'audit_entries'),
      'update audit_entries set seq = -12 where seq = 12',
      'update audit_entries set seq = 12 where seq = 15',
      'update audit_entries set seq = 15 where seq = -12',
    ]);
    const report = await verifyAt(setup, url);
    expect(report.finding).toMatchObject({ kind: 'reordered', seq: 12, eventId: events[14]?.eventId });
    expect(report.finding?.message).toContain('holds the entry written at seq 15');
  });

  it('names a head with a forged signature and one signed by a key the CA never certified', async () => {
    const setup = getSetup();
    const { url } = await filled(setup);
    const bogus = randomBytes(72).toString('base64');
    await rawSql(url, [...dropAppendOnly(url, 'audit_tree_heads'), `update audit_tree_heads set signature = '${bogus}' where size = 30`]);
    expect((await verifyAt(setup, url)).finding).toMatchObject({ kind: 'head-forged', headSize: 30 });
    expect((await verifyAt(setup, url)).finding?.message).toContain('its signature does not verify');

    const second = await filled(setup);
    const store = await openAudit(second.url);
    const head = (await store.heads()).find((h) => h.size === 40);
    await store.close();
    const { signTreeHead } = await import('../../src/audit/index.js');
    const rogue = treeHeadJson(signTreeHead(setup.rogue, 40, head?.rootHash ?? Buffer.alloc(32), new Date().toISOString()));
    await rawSql(second.url, [
      ...dropAppendOnly(second.url, 'audit_tree_heads'),
      `update audit_tree_heads set signature = '${rogue.signature}', key_id = '${rogue.keyId}', certificate = '${rogue.certificate}', signed_at = '${rogue.signedAt}' where size = 40`,
    ]);
    const report = await verifyAt(setup, second.url);
    expect(report.finding).toMatchObject({ kind: 'head-forged', headSize: 40 });
    expect(report.finding?.message).toContain('not issued by a trusted CA');
  });

  it('dmrctl audit prove and consistency print proofs that verify against the signed heads', async () => {
    const setup = getSetup();
    const { url, events } = await filled(setup);
    const prove = await cli(['audit', 'prove', events[36]?.eventId ?? '', '--database', url]);
    expect(prove.code).toBe(0);
    const proof = JSON.parse(prove.out);
    expect(proof).toMatchObject({ seq: 37, leafIndex: 36, verified: true, treeHead: { size: COUNT } });
    const path = (proof.auditPath as string[]).map((h) => Buffer.from(h, 'hex'));
    expect(verifyInclusion(Buffer.from(proof.leafHash, 'hex'), 36, COUNT, path, Buffer.from(proof.treeHead.rootHash, 'hex'))).toBe(true);
    const consistency = await cli(['audit', 'consistency', '--old', '20', '--new', '50', '--database', url]);
    expect(consistency.code).toBe(0);
    const c = JSON.parse(consistency.out);
    const hashes = (c.proof as string[]).map((h) => Buffer.from(h, 'hex'));
    expect(verifyConsistency(20, 50, Buffer.from(c.oldHead.rootHash, 'hex'), Buffer.from(c.newHead.rootHash, 'hex'), hashes)).toBe(true);
    const missing = await cli(['audit', 'prove', 'no-such-event-id', '--database', url]);
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.err).toContain('DMR_AUDIT_NOT_FOUND');
  });
}

async function commonSetup(dir: string): Promise<Omit<Setup, 'fresh'>> {
  const ca = await memoryCa('DMR test agent CA');
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.pem);
  return { ca, caFile, signer: await auditSigner(ca), rogue: await auditSigner(await memoryCa('DMR test agent CA')) };
}

describe('audit log tamper evidence on SQLite', () => {
  let setup: Setup | undefined;
  let remove: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const dir = await makeTempDir('audit');
    remove = dir.remove;
    let n = 0;
    setup = { ...(await commonSetup(dir.path)), fresh: async () => `sqlite:${join(dir.path, `audit-${++n}.db`)}` };
  });
  afterAll(async () => {
    await remove?.();
  });
  tamperSuite(() => setup as Setup);
});

describe('audit log tamper evidence on PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  let setup: Setup | undefined;
  let remove: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
    const dir = await makeTempDir('audit-pg');
    remove = dir.remove;
    const pgCluster = cluster;
    setup = { ...(await commonSetup(dir.path)), fresh: () => pgCluster.createDatabase(`audit_${randomBytes(6).toString('hex')}`) };
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await remove?.();
  });
  tamperSuite(() => setup as Setup);
});
