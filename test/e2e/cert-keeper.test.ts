// Issue 18: the CertificateKeeper on its own, with real timers, files and TLS: renewal when due, retries with backoff
// while dmr-control refuses, nothing attempted once the certificate expired, stop() awaiting the work in progress.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateKeeper, type CertificateMaterial, type ReloadResult, type RenewalOutcome, readIdentity } from '@dmr/shared/certs';
import { testKeyPair } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture, testPki, waitUntil } from '../support/dmr-system.js';
import { FakeControl } from '../support/fake-control.js';

describe('CertificateKeeper', () => {
  let control: FakeControl;
  let dir: string;
  const keepers: CertificateKeeper[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dmr-keeper-'));
    control = await new FakeControl(await testPki()).start();
  });

  afterAll(async () => {
    for (const keeper of keepers) await keeper.stop();
    await control?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An agent identity on disk whose certificate lives `lifetimeMs`, and a keeper for it renewing at `fraction`. */
  async function keeperFor(lifetimeMs: number, fraction: number) {
    const agentId = crypto.randomUUID();
    const pair = testKeyPair('ec');
    const base = mkdtempSync(join(dir, 'id-'));
    const paths = { certFile: join(base, 'cert.pem'), keyFile: join(base, 'key.pem') };
    control.lifetimeMs = () => lifetimeMs;
    writeFileSync(
      paths.certFile,
      await control.issue({ commonName: agentId, uris: [`urn:dmr:agent:${agentId}`], isServer: false }, pair.publicPem),
    );
    writeFileSync(paths.keyFile, pair.privatePem, { mode: 0o600 });
    const initial = await readIdentity(paths);
    const events = {
      renewals: [] as RenewalOutcome[],
      reloads: [] as ReloadResult[],
      applied: [] as CertificateMaterial[],
      expiry: [] as number[],
    };
    const logs = new LogCapture('keeper');
    const keeper = new CertificateKeeper(
      { name: 'tls', paths, reloadIntervalMs: 60_000, renewal: { control: { url: control.url, caFile: control.caFile }, fraction } },
      initial,
      {
        apply: (material) => {
          events.applied.push(material);
        },
        observer: {
          expiry: (s) => events.expiry.push(s),
          renewal: (outcome) => events.renewals.push(outcome),
          reload: (result) => events.reloads.push(result),
        },
        log: logs.logger,
      },
    );
    keepers.push(keeper);
    return { keeper, events, logs, paths, agentId };
  }

  it('renews when due, retrying with backoff (≥ 1 s apart, growing) while dmr-control refuses, then succeeds', async () => {
    control.renewRefusal = { status: 503, code: 'DMR_CONTROL_STORE_FAILED' };
    const { keeper, events, logs, paths, agentId } = await keeperFor(20_000, 0.1);
    const first = keeper.facts.serial;
    control.lifetimeMs = () => 3_600_000;
    keeper.start();
    await waitUntil(() => events.renewals.length >= 3, 10_000, 'three failed attempts');
    control.renewRefusal = undefined;
    await waitUntil(() => events.renewals.includes('success'), 15_000, 'a successful retry');
    const attempts = logs.find({ msg: 'renewing certificate with dmr-control' }).map((line) => Date.parse(String(line.time)));
    const gaps = attempts.slice(1).map((at, index) => at - (attempts[index] as number));
    expect(
      gaps.every((gap) => gap >= 990),
      `gaps ${gaps.join(', ')}`,
    ).toBe(true);
    expect(gaps[1] as number).toBeGreaterThan((gaps[0] as number) * 0.9);
    expect(events.renewals.slice(0, 3)).toEqual(['failed', 'failed', 'failed']);
    expect(logs.find({ code: 'DMR_CERT_CONTROL_UNREACHABLE' }).length).toBeGreaterThanOrEqual(3);
    expect(keeper.facts.serial).not.toBe(first);
    expect(events.applied).toHaveLength(1);
    expect(events.reloads).toEqual(['applied']);
    expect(readFileSync(paths.certFile, 'utf8')).toBe(events.applied[0]?.certificate);
    expect(control.calls.filter((call) => call.caller === `urn:dmr:agent:${agentId}`).length).toBe(events.renewals.length);
  });

  it('attempts nothing once the certificate has expired, and says so once', async () => {
    const { keeper, events, logs, agentId } = await keeperFor(2500, 0.95);
    // X.509 times have whole seconds: wait until past notAfter however it was rounded
    await waitUntil(() => Date.now() > keeper.facts.notAfterMs + 10, 5000, 'the certificate expired');
    keeper.start();
    await keeper.checkFilesNow();
    expect(events.renewals).toEqual([]);
    expect(control.calls.some((call) => call.caller === `urn:dmr:agent:${agentId}`)).toBe(false);
    const expired = logs.lines.filter((line) => String(line.msg).startsWith('certificate expired and was not renewed'));
    expect(expired).toHaveLength(1);
  });

  it('stop() is idempotent, awaits the work in progress, and nothing runs after it', async () => {
    const { keeper, events, logs } = await keeperFor(3_600_000, 0.5);
    keeper.start();
    const renewing = keeper.renewNow();
    await waitUntil(() => logs.find({ msg: 'renewing certificate with dmr-control' }).length === 1, 5000, 'renewal under way');
    const stopping = keeper.stop();
    expect(keeper.stop()).toBe(stopping);
    expect(keeper.state).toBe('stopping');
    await stopping;
    // the renewal that was under way finished before stop() resolved
    expect(events.renewals).toEqual(['success']);
    await renewing;
    expect(keeper.state).toBe('stopped');
    const count = events.renewals.length;
    await keeper.renewNow();
    await keeper.checkFilesNow();
    expect(events.renewals.length).toBe(count);
  });
});
