// Issue 18: which re-reads a dmr.control announcement causes. A registry re-read only for a version newer than the
// registry in force, a CRL re-read only for a version newer than the last `crl` announcement acted on (a CRL carries no
// config version), nothing for unknown kinds, and never a throw, whatever the message.
import { Writable } from 'node:stream';
import { createLogger } from '@dmr/shared';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ControlSync, planAnnouncement } from '../../src/control/index.js';

const at = '2026-12-07T12:00:00.000Z';
const announcement = (configVersion: number, kinds: string[]) => Buffer.from(JSON.stringify({ configVersion, kinds, at }));

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, log: createLogger({ name: 'test', level: 'debug', destination }) };
}

function harness(registryVersion: number | undefined, crlRead = true) {
  const calls = { registry: 0, crl: 0 };
  const counter = new Counter({ name: 'announcements', help: 'test', labelNames: ['result'], registers: [] });
  const counts = async () => Object.fromEntries((await counter.get()).values.map((sample) => [String(sample.labels.result), sample.value]));
  const registry = {
    configVersion: registryVersion,
    sync: async () => {
      calls.registry++;
      return 'changed';
    },
  };
  const crl = {
    refresh: async () => {
      calls.crl++;
      return crlRead;
    },
  };
  const { lines, log } = logSink();
  const clock = { nowMs: 0 };
  const sync = new ControlSync({ registry, crl }, { log, announcementsTotal: counter, now: () => clock.nowMs });
  const advance = (ms: number): void => {
    clock.nowMs += ms;
  };
  return { sync, calls, counts, lines, registry, advance };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('planAnnouncement', () => {
  it('re-reads the registry only for a version newer than the one in force', () => {
    expect(planAnnouncement({ configVersion: 8, kinds: ['registry'] }, { registry: 7, crl: undefined })).toEqual({
      registry: true,
      crl: false,
      policy: false,
    });
    expect(planAnnouncement({ configVersion: 7, kinds: ['registry'] }, { registry: 7, crl: undefined })).toEqual({
      registry: false,
      crl: false,
      policy: false,
    });
    expect(planAnnouncement({ configVersion: 6, kinds: ['registry'] }, { registry: 7, crl: undefined }).registry).toBe(false);
    expect(planAnnouncement({ configVersion: 0, kinds: ['registry'] }, { registry: undefined, crl: undefined }).registry).toBe(true);
  });

  it('judges the CRL against the last crl announcement acted on, not against the registry version', () => {
    // version 7 is already the registry in force (read by a poll after the revocation committed): the CRL is still new
    expect(planAnnouncement({ configVersion: 7, kinds: ['crl'] }, { registry: 7, crl: undefined })).toEqual({
      registry: false,
      crl: true,
      policy: false,
    });
    expect(planAnnouncement({ configVersion: 7, kinds: ['crl'] }, { registry: 7, crl: 7 }).crl).toBe(false);
    expect(planAnnouncement({ configVersion: 9, kinds: ['registry', 'crl'] }, { registry: 7, crl: 7 })).toEqual({
      registry: true,
      crl: true,
      policy: false,
    });
  });

  it('acts on policy (issue 19) like crl: newer than the last policy announcement acted on', () => {
    expect(planAnnouncement({ configVersion: 9, kinds: ['policy', 'peers', 'later'] }, { registry: 9, crl: 9 })).toEqual({
      registry: false,
      crl: false,
      policy: true,
    });
    expect(planAnnouncement({ configVersion: 9, kinds: ['policy'] }, { registry: 1, crl: 1, policy: 9 }).policy).toBe(false);
    expect(planAnnouncement({ configVersion: 10, kinds: ['policy'] }, { registry: 1, crl: 1, policy: 9 }).policy).toBe(true);
  });

  it('acts on nothing for peers or kinds it does not know', () => {
    expect(planAnnouncement({ configVersion: 9, kinds: ['peers', 'later'] }, { registry: 1, crl: 1 })).toEqual({
      registry: false,
      crl: false,
      policy: false,
    });
  });
});

describe('ControlSync', () => {
  it('re-reads what a newer announcement names and counts it as acted', async () => {
    const { sync, calls, counts } = harness(3);
    expect(sync.handle(announcement(4, ['registry', 'crl']))).toBe('acted');
    await settle();
    expect(calls).toEqual({ registry: 1, crl: 1 });
    expect(sync.handle(announcement(3, ['registry']))).toBe('ignored');
    // the CRL read after version 4 succeeded: version 4 again brings nothing new, version 5 does
    expect(sync.handle(announcement(4, ['crl']))).toBe('ignored');
    expect(sync.handle(announcement(5, ['crl']))).toBe('acted');
    await settle();
    expect(calls).toEqual({ registry: 1, crl: 2 });
    expect(await counts()).toEqual({ acted: 2, ignored: 2 });
  });

  it('asks again after a CRL read that failed, since nothing was learned', async () => {
    const { sync, calls } = harness(3, false);
    sync.handle(announcement(4, ['crl']));
    await settle();
    sync.handle(announcement(4, ['crl']));
    await settle();
    expect(calls.crl).toBe(2);
  });

  it('drops malformed messages without throwing, counts each, and logs a flood once per interval', async () => {
    const { sync, calls, counts, lines, advance } = harness(3);
    const garbage = [
      Buffer.from('not json'),
      Buffer.from([0xff, 0x00]),
      Buffer.from('{}'),
      Buffer.alloc(100_000, 0x7b),
      announcement(-1, ['registry']),
    ];
    for (const body of garbage) expect(sync.handle(body)).toBe('invalid');
    expect(await counts()).toEqual({ invalid: 5 });
    const warnings = () => lines.filter((line) => line.code === 'DMR_CONTROL_ANNOUNCEMENT_INVALID');
    expect(warnings()).toHaveLength(1);
    advance(10_000);
    sync.handle(Buffer.from('[]'));
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatchObject({ suppressedSinceLastLine: 4 });
    await settle();
    expect(calls).toEqual({ registry: 0, crl: 0 });
    // and it still acts on the next good one
    expect(sync.handle(announcement(4, ['registry']))).toBe('acted');
  });

  it('catches up on both after a (re)binding, whatever the versions', async () => {
    const { sync, calls } = harness(10);
    sync.catchUp();
    await settle();
    expect(calls).toEqual({ registry: 1, crl: 1 });
  });
});

describe('ControlSync with a policy target (issue 19)', () => {
  it('re-reads the policy on a newer policy announcement, once per version, and after every binding', async () => {
    let policyReads = 0;
    const counter = new Counter({ name: 'announcements', help: 'test', labelNames: ['result'], registers: [] });
    const registry = { configVersion: 5, sync: async () => 'changed' };
    const policy = {
      refresh: async () => {
        policyReads++;
        return true;
      },
    };
    const sync = new ControlSync({ registry, crl: undefined, policy }, { log: logSink().log, announcementsTotal: counter });
    expect(sync.handle(announcement(6, ['policy']))).toBe('acted');
    await settle();
    expect(policyReads).toBe(1);
    // the same version again (a re-delivery) brings nothing new
    expect(sync.handle(announcement(6, ['policy']))).toBe('ignored');
    expect(sync.handle(announcement(7, ['policy']))).toBe('acted');
    await settle();
    expect(policyReads).toBe(2);
    sync.catchUp();
    await settle();
    expect(policyReads).toBe(3);
  });
});
