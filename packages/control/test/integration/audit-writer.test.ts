// The audit writer against a private RabbitMQ node: events published with confirms to the dmr.audit stream are
// appended once each (duplicates by eventId dropped, invalid ones skipped), heads are signed, and a restarted writer
// resumes after the last stored stream offset. The log then verifies.

import { join } from 'node:path';
import { type AuditEvent, publishAuditEvent } from '@dmr/shared/audit';
import { type RabbitNode, startRabbitNode } from '@dmr/testkit';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditAppender, parseCaBundle, type TreeHeadSigner, verifyAuditLog } from '../../src/audit/index.js';
import { AuditStreamWriter, ChangeLogAuditPublisher } from '../../src/audit-writer/index.js';
import { type AuditLogStore, openControlStore } from '../../src/store/index.js';
import { auditEvent, auditSigner, collect, type MemoryCa, memoryCa, openAudit } from '../helpers/audit-fixture.js';
import { capturingLogger } from '../helpers/store-fixtures.js';
import { makeTempDir } from './helpers/temp-dir.js';

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('audit writer on the dmr.audit stream', () => {
  let node: RabbitNode | undefined;
  let ca: MemoryCa;
  let signer: TreeHeadSigner;
  let dir: { path: string; remove: () => Promise<void> };

  beforeAll(async () => {
    [node, ca, dir] = await Promise.all([
      startRabbitNode({ management: false }),
      memoryCa('DMR writer test CA'),
      makeTempDir('audit-writer'),
    ]);
    signer = await auditSigner(ca);
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await dir?.remove();
  });

  async function publish(events: readonly AuditEvent[], raw: readonly Buffer[] = []): Promise<void> {
    const model = await amqp.connect((node as RabbitNode).amqpUrl());
    const channel = await model.createConfirmChannel();
    await channel.assertQueue('dmr.audit', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    await Promise.all(events.map((event) => publishAuditEvent(channel, event)));
    for (const body of raw) channel.sendToQueue('dmr.audit', body);
    await channel.waitForConfirms();
    await model.close();
  }

  function writerFor(store: AuditLogStore, appender: AuditAppender, counts: { entries: number; lag: number }) {
    return new AuditStreamWriter({
      connect: () => amqp.connect((node as RabbitNode).amqpUrl()),
      appender,
      store,
      log: capturingLogger().log,
      headEveryMs: 200,
      metrics: {
        entriesAppended: (n) => {
          counts.entries += n;
        },
        lag: (n) => {
          counts.lag = n;
        },
        events: () => undefined,
      },
    });
  }

  it('appends each event once, signs heads, and resumes after a restart', async () => {
    const events = Array.from({ length: 300 }, (_, i) => auditEvent(i + 1, { kind: 'certificate.issued', actor: 'dmr-control' }));
    const duplicate = events[10] as AuditEvent;
    await publish(events, [Buffer.from(JSON.stringify(duplicate)), Buffer.from('{"v":2}')]);
    const store = await openAudit(`sqlite:${join(dir.path, 'writer.db')}`);
    const counts = { entries: 0, lag: -1 };
    const schedule = { everyEvents: 64, everyMs: 200 };
    const first = writerFor(store, await AuditAppender.open(store, signer, schedule), counts);
    await first.start();
    await until(async () => (await store.position())?.seq === 300, 30_000, '300 entries');
    await first.stop();
    expect(counts.entries).toBe(300);
    // offsets are stored with entries: the duplicate (300) and the invalid message (301) are read again after a
    // restart and dropped again, which is harmless
    expect(await store.lastStreamOffset()).toBe(299);

    const more = Array.from({ length: 50 }, (_, i) => auditEvent(1000 + i));
    await publish(more);
    const second = writerFor(store, await AuditAppender.open(store, signer, schedule), counts);
    await second.start();
    await until(async () => (await store.position())?.seq === 350, 30_000, '350 entries');
    await second.stop();
    expect(counts.entries).toBe(350);
    expect(counts.lag).toBe(0);

    const heads = await store.heads();
    expect(heads.at(-1)?.size).toBe(350);
    const sizes = heads.map((h) => h.size);
    expect(sizes.slice(0, 4)).toEqual([64, 128, 192, 256]);
    expect(sizes).toContain(300); // the first writer's final head at stop
    // at least every 64 events: no gap between consecutive heads is wider
    expect(Math.max(...sizes.map((size, i) => size - (sizes[i - 1] ?? 0)))).toBeLessThanOrEqual(64);
    const report = await verifyAuditLog({ entries: store.entries(), heads, trustedCas: parseCaBundle(ca.pem) });
    expect(report).toMatchObject({ ok: true, entriesChecked: 350, verifiedSize: 350 });
    const stored = await store.entryByEventId(more[49]?.eventId ?? '');
    expect(stored?.seq).toBe(350);
    await store.close();
  }, 120_000);

  it("publishes dmr-control's own change log (config and certificate actions) into the log, once each", async () => {
    const url = `sqlite:${join(dir.path, 'control.db')}`;
    const log = capturingLogger().log;
    const control = await openControlStore(url, { log });
    const actor = { subject: 'alice', role: 'admin' };
    await control.transaction(async (tx) => {
      tx.changes.append({
        actor,
        action: 'agent.create',
        subjectKind: 'agent',
        subjectId: 'agent-a',
        after: { id: 'agent-a' },
        outcome: 'applied',
      });
      tx.changes.append({ actor, action: 'certificate.revoke', subjectKind: 'certificate', subjectId: '0a1b', outcome: 'applied' });
      await tx.bumpConfigVersion();
    });
    const store = await openAudit(url);
    const counts = { entries: 0, lag: -1 };
    const writer = writerFor(store, await AuditAppender.open(store, signer, { everyEvents: 1000, everyMs: 200 }), counts);
    await writer.start();
    const connect = () => amqp.connect((node as RabbitNode).amqpUrl());
    const publisher = new ChangeLogAuditPublisher({ store: control, auditStore: store, connect, log });
    await publisher.publishPending();
    await publisher.publishPending();
    await until(async () => (await store.entryByEventId('change-log-2')) !== undefined, 30_000, 'the change-log events');
    await publisher.stop();
    // a new publisher (a restart) starts after the last change-log event the log holds: nothing is published twice
    const again = new ChangeLogAuditPublisher({ store: control, auditStore: store, connect, log });
    await again.publishPending();
    await again.stop();
    await writer.stop();
    const entries = await collect(store.entries());
    const changeEvents = entries.filter((e) => e.eventId.startsWith('change-log-')).map((e) => JSON.parse(e.body).event);
    expect(changeEvents).toEqual([
      expect.objectContaining({
        eventId: 'change-log-1',
        kind: 'config.changed',
        actor: 'admin:alice',
        subject: 'agent.create agent:agent-a',
        outcome: 'ok',
        configVersion: 1,
      }),
      expect.objectContaining({
        eventId: 'change-log-2',
        kind: 'certificate.revoked',
        subject: 'certificate.revoke certificate:0a1b',
        configVersion: 1,
      }),
    ]);
    await store.close();
    await control.close();
  }, 120_000);
});
