// A certificate lifecycle on real files and a real SQLite store: a CA ring (agents + broker CA) in a temp dir, the
// store in the same dir, a settable clock shared by both, the announcements and every log line kept.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@dmr/shared';
import { addCaToRing } from '../../src/ca/index.js';
import type { CertOutcome } from '../../src/domain/index.js';
import { type AnnouncementKind, CaRingHolder, CertificateLifecycle, type LifecycleConfig } from '../../src/enroll/index.js';
import { type ControlStore, openControlStore } from '../../src/store/index.js';
import { agentInput, capturingLogger, type TestClock, testClock } from './store-fixtures.js';

/** The lifecycle's configuration in tests: the defaults, a CRL check every second. */
export const TEST_LIFECYCLE_CONFIG: LifecycleConfig = {
  enrollmentTokenTtlMs: 3_600_000,
  agentCertValidityDays: 90,
  serverCertValidityDays: 90,
  crlValidityMs: 7 * 86_400_000,
  crlRepublishBeforeMs: 3.5 * 86_400_000,
  crlCheckIntervalMs: 1000,
};

/** An admin acting in tests. */
export const OPERATOR = { subject: 'CN=Olga Operator', role: 'operator' } as const;

/** One lifecycle and everything around it. */
export interface LifecycleFixture {
  readonly dir: string;
  readonly caDir: string;
  readonly dbUrl: string;
  readonly clock: TestClock;
  readonly store: ControlStore;
  readonly ring: CaRingHolder;
  readonly lifecycle: CertificateLifecycle;
  readonly announcements: { configVersion: number; kinds: readonly AnnouncementKind[] }[];
  readonly lines: string[];
  readonly log: Logger;
  /** A second control instance on the same CA dir and database (HA). */
  secondInstance(): Promise<{ store: ControlStore; lifecycle: CertificateLifecycle; ring: CaRingHolder }>;
  /** Creates an agent in the registry. */
  createAgent(id: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Builds a {@link LifecycleFixture}: ring `agents-1` + `broker-1`, a SQLite store in the temp dir (or the database at
 * `databaseUrl`, e.g. a private PostgreSQL's), clock at 2026-12-07T10:00Z.
 */
export async function lifecycleFixture(config: Partial<LifecycleConfig> = {}, databaseUrl?: string): Promise<LifecycleFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'dmr-certs-'));
  const caDir = join(dir, 'ca');
  const clock = testClock();
  for (const [id, purpose] of [
    ['agents-1', 'agents'],
    ['broker-1', 'broker'],
  ] as const) {
    const added = await addCaToRing(caDir, {
      id,
      purpose,
      commonName: `DMR ${purpose} CA 1`,
      now: new Date(clock.now().getTime() - 86_400_000),
    });
    if (!added.ok) throw new Error(added.message);
  }
  const { log, lines } = capturingLogger();
  const dbUrl = databaseUrl ?? `sqlite:${join(dir, 'control.db')}`;
  const fullConfig: LifecycleConfig = { ...TEST_LIFECYCLE_CONFIG, ...config };
  const announcements: LifecycleFixture['announcements'] = [];
  const announcer = { announce: async (a: { configVersion: number; kinds: readonly AnnouncementKind[] }) => void announcements.push(a) };
  const build = async () => {
    const store = await openControlStore(dbUrl, { log, now: clock.now });
    const ring = await CaRingHolder.open(caDir);
    return { store, ring, lifecycle: new CertificateLifecycle({ store, ring, clock, announcer, log }, fullConfig) };
  };
  const first = await build();
  const others: ControlStore[] = [];
  return {
    dir,
    caDir,
    dbUrl,
    clock,
    ...first,
    announcements,
    lines,
    log,
    secondInstance: async () => {
      const second = await build();
      others.push(second.store);
      return second;
    },
    createAgent: async (id) => {
      await first.store.transaction(async (tx) => {
        const created = await tx.agents.create(agentInput(id));
        if (!created.ok) throw new Error(created.message);
      });
    },
    close: async () => {
      await first.lifecycle.stop();
      for (const store of [first.store, ...others]) await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The value of an ok outcome; fails with the refusal otherwise. */
export function okOf<T>(outcome: CertOutcome<T>): T {
  if (!outcome.ok) throw new Error(`expected ok, got ${outcome.code}: ${outcome.message}`);
  return outcome.value;
}
