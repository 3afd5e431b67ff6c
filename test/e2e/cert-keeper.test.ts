// Issue 18: the CertificateKeeper on its own, with real timers, files and TLS: renewal when due, retries with backoff
// while dmr-control refuses, nothing attempted once the certificate expired, stop() awaiting the work in progress; and
// the trust-anchor change-over: the CA bundle follows GET /v1/ca-certificates, renewal onto the CA that signs now.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pemCertificates } from '@dmr/shared';
import { CertificateKeeper, type CertificateMaterial, type ReloadResult, type RenewalOutcome, readIdentity } from '@dmr/shared/certs';
import { TestCa, testKeyPair } from '@dmr/testkit';
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

  /** A keeper with a CA file, following dmr-control's bundle (no timer: on start and on demand). */
  async function trustingKeeper() {
    const pair = testKeyPair('ec');
    const agentId = crypto.randomUUID();
    const base = mkdtempSync(join(dir, 'trust-'));
    const paths = { certFile: join(base, 'cert.pem'), keyFile: join(base, 'key.pem'), caFile: join(base, 'ca.pem') };
    control.lifetimeMs = () => 3_600_000;
    writeFileSync(
      paths.certFile,
      await control.issue({ commonName: agentId, uris: [`urn:dmr:agent:${agentId}`], isServer: false }, pair.publicPem),
    );
    writeFileSync(paths.keyFile, pair.privatePem, { mode: 0o600 });
    writeFileSync(paths.caFile, (await testPki()).caCert);
    const applied: CertificateMaterial[] = [];
    const logs = new LogCapture('keeper');
    const endpoint = { url: control.url, caFile: control.caFile };
    const keeper = new CertificateKeeper(
      {
        name: 'tls',
        paths,
        reloadIntervalMs: 60_000,
        renewal: { control: endpoint, fraction: 0.95 },
        trust: { control: endpoint, intervalMs: 0 },
      },
      await readIdentity(paths),
      {
        apply: (material) => void applied.push(material),
        observer: { expiry: () => {}, renewal: () => {}, reload: () => {} },
        log: logs.logger,
      },
    );
    keepers.push(keeper);
    const renewals = () => control.calls.filter((call) => call.path === '/v1/renew' && call.caller === `urn:dmr:agent:${agentId}`).length;
    return { keeper, applied, logs, paths, renewals };
  }

  it('follows dmr-control’s CA bundle: a changed one is written to the CA file and put in force once; the same one is left alone', async () => {
    const next = await TestCa.create('DMR Next CA');
    const pkiCa = (await testPki()).caCert;
    control.caBundle = pkiCa + next.pem;
    control.activeCaSha256 = new X509Certificate(pkiCa).fingerprint256;
    try {
      const { keeper, applied, paths, renewals } = await trustingKeeper();
      keeper.start();
      await keeper.refreshTrust();
      expect(readFileSync(paths.caFile, 'utf8')).toBe(pemCertificates(pkiCa + next.pem).join(''));
      expect(applied.map((material) => material.ca)).toEqual([pemCertificates(pkiCa + next.pem).join('')]);
      // the certificate in force is from the signing CA: nothing to renew
      expect(renewals()).toBe(0);
    } finally {
      control.caBundle = undefined;
      control.activeCaSha256 = undefined;
    }
  });

  it('renews at once when dmr-control names another signing CA than the certificate’s issuer', async () => {
    const next = await TestCa.create('DMR Signing CA');
    const pkiCa = (await testPki()).caCert;
    control.caBundle = pkiCa + next.pem;
    control.activeCaSha256 = new X509Certificate(next.pem).fingerprint256;
    try {
      const { keeper, logs, renewals } = await trustingKeeper();
      const before = keeper.facts.serial;
      keeper.start();
      await keeper.refreshTrust();
      expect(renewals()).toBeGreaterThanOrEqual(1);
      expect(keeper.facts.serial).not.toBe(before);
      expect(logs.find({ msg: 'dmr-control signs with another CA now: renewing onto it' }).length).toBeGreaterThanOrEqual(1);
    } finally {
      control.caBundle = undefined;
      control.activeCaSha256 = undefined;
    }
  });

  it('keeps the bundle in force when dmr-control answers none, and says so once', async () => {
    control.caBundle = 'no certificate here';
    try {
      const { keeper, applied, paths, logs } = await trustingKeeper();
      const before = readFileSync(paths.caFile, 'utf8');
      keeper.start();
      await keeper.refreshTrust();
      await keeper.refreshTrust();
      expect(readFileSync(paths.caFile, 'utf8')).toBe(before);
      expect(applied).toEqual([]);
      expect(
        logs.find({ msg: 'dmr-control CA bundle not read; the trusted CAs in force stay', code: 'DMR_CERT_RESPONSE_INVALID' }),
      ).toHaveLength(1);
    } finally {
      control.caBundle = undefined;
    }
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

  it('renews on behalf of another identity (the relay user): the caller’s certificate authenticates, the renewed one travels in the body', async () => {
    const server = testKeyPair('ec');
    const serverCert = await control.issue({ commonName: 'localhost', uris: ['urn:dmr:server:dmr-9'], isServer: true }, server.publicPem);
    const relay = testKeyPair('ec');
    const base = mkdtempSync(join(dir, 'relay-'));
    const paths = { certFile: join(base, 'relay.cert.pem'), keyFile: join(base, 'relay.key.pem') };
    writeFileSync(paths.certFile, await control.issue({ commonName: 'dmr-relay', uris: [], isServer: false }, relay.publicPem));
    writeFileSync(paths.keyFile, relay.privatePem, { mode: 0o600 });
    let caller = { certificate: serverCert, key: server.privatePem };
    const applied: CertificateMaterial[] = [];
    const keeper = new CertificateKeeper(
      {
        name: 'rabbitmq',
        paths,
        reloadIntervalMs: 60_000,
        renewal: { control: { url: control.url, caFile: control.caFile }, fraction: 0.6667, caller: () => caller },
      },
      await readIdentity(paths),
      {
        apply: (material) => {
          applied.push(material);
        },
        observer: { expiry: () => undefined, renewal: () => undefined, reload: () => undefined },
        log: new LogCapture('k').logger,
      },
    );
    keepers.push(keeper);
    keeper.start();
    const before = keeper.facts;
    const relayRenewals = control.relayRenewals;
    await keeper.renewNow();
    expect(control.relayRenewals).toBe(relayRenewals + 1);
    expect(control.calls.at(-1)).toMatchObject({ path: '/v1/renew', status: 201, caller: 'urn:dmr:server:dmr-9' });
    expect(keeper.facts.serial).not.toBe(before.serial);
    expect(keeper.facts.publicKeySha256).toBe(before.publicKeySha256);
    expect(keeper.facts.subject).toBe('CN=dmr-relay');
    expect(applied).toHaveLength(1);
    // a caller that is not a server is refused: the certificate in force stays
    const agentCert = await control.issue({ commonName: 'a1', uris: ['urn:dmr:agent:a1'], isServer: false }, server.publicPem);
    caller = { certificate: agentCert, key: server.privatePem };
    const inForce = keeper.facts.serial;
    await keeper.renewNow();
    expect(control.calls.at(-1)).toMatchObject({ status: 403, code: 'DMR_CONTROL_ROLE_FORBIDDEN' });
    expect(keeper.facts.serial).toBe(inForce);
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
