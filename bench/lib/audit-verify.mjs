// audit.verify_1m_s: seconds to verify N audit events (default 1 million) with `verifyAuditLog`, the code behind
// `dmrctl audit verify`. Generates the events into a fresh SQLite store through the writer's appender (a head signed
// every 1000 events by a certificate from an in-memory CA), then times only the verification.
// Run directly: `node bench/lib/audit-verify.mjs [events]` (after `npx tsc -b`). Not wired into bench.mjs.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from '@dmr/shared';

const DIST = join(import.meta.dirname, '..', '..', 'packages', 'control', 'dist');
const load = (path) => import(pathToFileURL(join(DIST, path)).href);

const BATCH = 10_000;
const HEAD_EVERY = 1000;

async function auditCa(ca) {
  const { keys, certificate } = await ca.createRoot('DMR bench agent CA', 'ec-p256', ca.validityFor(30, new Date()));
  const signer = { certificate, signingKey: await ca.signingKeyFromPem(ca.privateKeyPem(keys.privateKey)) };
  return { pem: certificate.toString('pem'), writer: await ca.issueAuditSigner(signer, 'bench') };
}

function event(i) {
  return {
    v: 1,
    eventId: randomUUID(),
    at: new Date(Date.UTC(2026, 11, 7) + i).toISOString(),
    kind: 'message.delivered',
    actor: `agent-${i % 97}`,
    subject: `msg:${randomUUID()}`,
    outcome: 'ok',
    configVersion: 42,
  };
}

async function generate(store, audit, writer, events) {
  const appender = await audit.AuditAppender.open(store, writer, { everyEvents: HEAD_EVERY, everyMs: 3_600_000 });
  for (let i = 0; i < events; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, events - i) }, (_, j) => ({ event: event(i + j), streamOffset: i + j }));
    await appender.append(batch);
  }
  await appender.signIfDue(true);
}

/**
 * Generates `events` audit events into a temporary SQLite store and returns the seconds verifying them took (rounded
 * to 0.01 s). `onDetail` receives the generation time and the number of signed heads.
 */
export async function measureAuditVerify({ events = 1_000_000, onDetail } = {}) {
  const [audit, ca, stores] = await Promise.all([load('audit/index.js'), load('ca/index.js'), load('store/index.js')]);
  const dir = await mkdtemp(join(tmpdir(), 'dmr-bench-audit-'));
  const log = createLogger({ name: 'bench-audit', level: 'silent' });
  try {
    const { pem, writer } = await auditCa(ca);
    const url = `sqlite:${join(dir, 'audit.db')}`;
    const store = await stores.openAuditLogStore(url, { log });
    const generatedAt = performance.now();
    await generate(store, audit, writer, events);
    const generateS = (performance.now() - generatedAt) / 1000;
    const started = performance.now();
    const report = await audit.verifyAuditLog({
      entries: store.entries(),
      heads: await store.heads(),
      trustedCas: audit.parseCaBundle(pem),
    });
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    if (!report.ok || report.entriesChecked !== events) throw new Error(`audit bench: verification failed: ${JSON.stringify(report)}`);
    onDetail?.({ generateS: Math.round(generateS * 10) / 10, heads: report.headsChecked });
    return Math.round(seconds * 100) / 100;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const events = Number(process.argv[2] ?? 1_000_000);
  let detail = {};
  const seconds = await measureAuditVerify({ events, onDetail: (d) => (detail = d) });
  const key = events === 1_000_000 ? 'audit.verify_1m_s' : 'verify_s';
  process.stdout.write(`${JSON.stringify({ events, [key]: seconds, ...detail })}\n`);
}
