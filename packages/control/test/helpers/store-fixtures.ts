// Fixtures of the store contract suite: one factory per engine, a settable clock, and record inputs.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@dmr/shared';
import type { PostgresCluster } from '@dmr/testkit';
import { afterEach, beforeEach } from 'vitest';
import type { AgentInput, CertificateInput, ControlStore, StoreEngine } from '../../src/store/index.js';
import { openControlStore } from '../../src/store/index.js';

/** A logger that keeps its lines (to assert that no record content is logged). */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write: (chunk, _encoding, done) => {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger({ name: 'store-test', level: 'info', destination }), lines };
}

/** A clock the test moves: `now()` for the store, `set`/`advance` for the test. */
export interface TestClock {
  now(): Date;
  set(iso: string): void;
  advanceMs(ms: number): void;
}

/** A {@link TestClock} starting at `start`. */
export function testClock(start = '2026-12-07T10:00:00.000Z'): TestClock {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (iso) => {
      current = new Date(iso).getTime();
    },
    advanceMs: (ms) => {
      current += ms;
    },
  };
}

/** Opens fresh stores (an empty database each) of one engine. */
export interface StoreFactory {
  readonly engine: StoreEngine;
  /** A fresh, empty, migrated store and its URL. */
  fresh(clock?: TestClock): Promise<{ store: ControlStore; url: string }>;
  /** Another store on an existing URL (a second control instance, or a reopen). */
  open(url: string, clock?: TestClock): Promise<ControlStore>;
  /** Removes what the factory made. */
  dispose(): Promise<void>;
}

/** SQLite stores, one temp file each. */
export async function sqliteFactory(): Promise<StoreFactory> {
  const dir = await mkdtemp(join(tmpdir(), 'dmr-store-'));
  let count = 0;
  const open = (url: string, clock?: TestClock) =>
    openControlStore(url, { log: capturingLogger().log, ...(clock ? { now: clock.now } : {}) });
  return {
    engine: 'sqlite',
    fresh: async (clock) => {
      count += 1;
      const url = `sqlite:${join(dir, `control-${count}.db`)}`;
      return { store: await open(url, clock), url };
    },
    open,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** PostgreSQL stores, one database each on `cluster`. */
export function postgresFactory(cluster: PostgresCluster): StoreFactory {
  const open = (url: string, clock?: TestClock) =>
    openControlStore(url, { log: capturingLogger().log, ...(clock ? { now: clock.now } : {}) });
  return {
    engine: 'postgres',
    fresh: async (clock) => {
      const url = await cluster.createDatabase(`store_${randomBytes(6).toString('hex')}`);
      return { store: await open(url, clock), url };
    },
    open,
    dispose: async () => undefined,
  };
}

/** An agent with every field set; `overrides` replace fields. */
export function agentInput(id: string, overrides: Partial<AgentInput> = {}): AgentInput {
  return {
    id,
    name: `Agent ${id}`,
    institution: 'Riigi Infosüsteemi Amet',
    contact: 'ops@example.ee',
    labels: { tier: 'gold', region: 'tallinn' },
    groups: ['citizens', 'tax'],
    authenticationCertificate: null,
    capabilities: ['chat'],
    enabled: true,
    ...overrides,
  };
}

/** A certificate record input; `overrides` replace fields. */
export function certificateInput(serial: string, overrides: Partial<CertificateInput> = {}): CertificateInput {
  return {
    serial,
    caId: 'agents-2026',
    subjectKind: 'agent',
    subjectId: 'agent-1',
    notBefore: '2026-12-01T00:00:00.000Z',
    notAfter: '2027-12-01T00:00:00.000Z',
    pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    publicKeySha256: 'ab'.repeat(32),
    ...overrides,
  };
}

/** Unwraps an ok outcome or fails the test with the refusal. */
export function okValue<T>(outcome: { ok: true; value: T } | { ok: false; code: string; message: string }): T {
  if (!outcome.ok) throw new Error(`expected ok, got ${outcome.code}: ${outcome.message}`);
  return outcome.value;
}

/** The store of the running test: fresh (empty database) before each test, closed after it. */
export interface FreshStore {
  readonly store: ControlStore;
  readonly url: string;
  readonly clock: TestClock;
  readonly factory: StoreFactory;
}

/** Registers beforeEach/afterEach hooks that give every test its own empty store of `factory()`'s engine. */
export function freshStoreEach(factory: () => StoreFactory): FreshStore {
  let current: { store: ControlStore; url: string; clock: TestClock } | undefined;
  beforeEach(async () => {
    const clock = testClock();
    current = { ...(await factory().fresh(clock)), clock };
  });
  afterEach(async () => {
    await current?.store.close();
    current = undefined;
  });
  const get = () => {
    if (current === undefined) throw new Error('no store outside a test');
    return current;
  };
  return {
    get store() {
      return get().store;
    },
    get url() {
      return get().url;
    },
    get clock() {
      return get().clock;
    },
    get factory() {
      return factory();
    },
  };
}
