// Issue 18, server side: config push on dmr.control, the config version in force, disabled agents, CRL distribution
// over HTTP and the report to the control plane, against the run's private RabbitMQ node (one vhost per test) and a
// stand-in for dmr-control's HTTPS endpoints (test/helpers/control-stand-in.ts; the coordinator's end-to-end test
// runs the real dmr-control). Servers, agents and TLS are real.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DmrServer } from '@dmr/server';
import { buildServer, loadServerConfig } from '@dmr/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  LogCapture,
  makeIdentity,
  probe,
  serverEnv,
  serverTlsEnv,
  testPki,
  waitUntil,
} from '../../../../test/support/dmr-system.js';
import { type LeafFiles, TestPki } from '../../../../test/support/pki.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { connectRawAgent, type RawAgent, type RawTls } from '../../../../test/support/raw-agent.js';
import { announce, announcement, ControlStandIn, type RegistryState } from '../helpers/control-stand-in.js';

const JWE = 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn';
const NEVER = '0 0 1 1 *';

interface Started {
  readonly server: DmrServer;
  readonly url: string;
  readonly logs: LogCapture;
}

function metricValue(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${name}${labels} `) || (labels === '' && row.startsWith(`${name}{`)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

function wireTo(sender: Identity, recipientId: string) {
  return { id: randomUUID(), timestamp: new Date().toISOString(), senderId: sender.id, recipientId, type: 'ChatMessage', payload: JWE };
}

function refusalCode(error: unknown): unknown {
  return (error as { data?: { code?: unknown } }).data?.code;
}

describe('control plane sync on a running server', () => {
  let rabbit: RabbitVhostHandle;
  let pki: TestPki;
  let secondCa: TestPki;
  let standIn: ControlStandIn;
  let reportClient: LeafFiles;
  let caBundlePath: string;
  let a: Identity;
  let b: Identity;
  let c: Identity;
  const started: Started[] = [];
  const sockets: RawAgent[] = [];

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
    pki = await testPki();
    [a, b, c] = await Promise.all([makeIdentity('ec'), makeIdentity('ec'), makeIdentity('ec')]);
    secondCa = await new TestPki().init('DMR Test CA 2');
    const controlLeaf = await pki.server('control');
    standIn = await new ControlStandIn().start({ cert: controlLeaf.cert, key: controlLeaf.key, ca: pki.caCert });
    // a client certificate (clientAuth) for the report; dmr-control will issue servers serverAuth+clientAuth ones
    reportClient = await pki.agent('relay-report');
    // a CA change-over: agents of both CAs are trusted, each CA has its own CRL in the bundle
    caBundlePath = join(secondCa.dir, 'ca-bundle.pem');
    writeFileSync(caBundlePath, `${pki.caCert}${secondCa.caCert}`);
    standIn.crlBundle = () => `${readFileSync(pki.crlPath, 'utf8')}${readFileSync(secondCa.crlPath, 'utf8')}`;
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const { server } of started.splice(0)) await server.stop();
    standIn.failWith = undefined;
    standIn.reports.splice(0);
  });

  afterAll(async () => {
    await standIn?.close();
    secondCa?.remove();
    await rabbit?.cleanup();
  });

  async function start(registry: RegistryState, extra: Record<string, string> = {}): Promise<Started> {
    standIn.setRegistry(registry);
    const env = serverEnv(rabbit, `${standIn.url}/centops/configuration`, {
      ...(await serverTlsEnv()),
      DMR_TLS_CA_FILE: caBundlePath,
      DMR_TLS_CRL_FILE: '',
      DMR_TLS_CRL_URL: `${standIn.url}/v1/crl`,
      // long intervals: what happens below is caused by pushes, not by polls
      DMR_TLS_CRL_FETCH_INTERVAL_MS: '600000',
      CENTOPS_CONFIGURATION_CRON_TIME: NEVER,
      CENTOPS_CONFIGURATION_CA_FILE: pki.caCertPath,
      DMR_CONTROL_URL: standIn.url,
      DMR_CONTROL_CLIENT_CERT_FILE: reportClient.certPath,
      DMR_CONTROL_CLIENT_KEY_FILE: reportClient.keyPath,
      DMR_INSTANCE_ID: `relay-${started.length + 1}`,
      ...extra,
    });
    const logs = new LogCapture('dmr-server');
    const server = buildServer(loadServerConfig(env), { log: logs.logger });
    const { port } = await server.start();
    const entry = { server, url: `https://127.0.0.1:${port}`, logs };
    started.push(entry);
    await waitUntil(() => server.readiness().isReady && server.control.listener?.status === 'bound', 15_000, 'ready and bound');
    return entry;
  }

  async function metrics(url: string): Promise<string> {
    return (await probe(`${url}/metrics`)).text;
  }

  async function connect(url: string, identity: Identity, tls?: RawTls): Promise<RawAgent> {
    const raw = await connectRawAgent(url, identity, tls);
    sockets.push(raw);
    return raw;
  }

  it('re-reads the registry within a second of a registry announcement, exports the version and reports it', async () => {
    const { server, url } = await start({ agents: [a, b], configVersion: 1 });
    expect(metricValue(await metrics(url), 'dmr_config_version')).toBe(1);
    const ready = JSON.parse((await probe(`${url}/v1/ready`)).text) as { checks: Record<string, string>; detail: Record<string, string> };
    expect(ready.checks).toMatchObject({ controlPush: 'bound', crl: 'current', crlFetch: 'ok' });
    expect(ready.detail.configVersion).toBe('1');
    // the catch-up after binding may still be in flight: let it settle before counting fetches
    await new Promise((resolve) => setTimeout(resolve, 500));

    standIn.setRegistry({ agents: [a, b, c], configVersion: 2 });
    const fetchesBefore = standIn.registryFetches;
    const announcedAt = Date.now();
    await announce(rabbit.amqpUrl, [announcement(2, ['registry'])]);
    await waitUntil(async () => metricValue(await metrics(url), 'dmr_config_version') === 2, 1000, 'version 2 in force within a second');
    process.stdout.write(`config push: version 2 in force ${Date.now() - announcedAt} ms after the announcement\n`);
    expect(server.registry.has(c.id)).toBe(true);
    expect(standIn.registryFetches - fetchesBefore).toBe(1);

    // the report after the applied sync, over mutual TLS, with what the server runs
    await waitUntil(() => standIn.reports.some((report) => report.body.configVersion === 2), 5000, 'report of version 2');
    const report = standIn.reports.find((entry) => entry.body.configVersion === 2);
    expect(report?.instanceId).toBe('relay-1');
    expect(report?.clientCn).toBe('relay-report');
    expect(report?.body).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), startedAt: expect.any(String) });
    expect(report?.body.crlNumbers).toHaveLength(2);

    // the same version again brings nothing new: no fetch
    await announce(rabbit.amqpUrl, [announcement(2, ['registry'])]);
    await waitUntil(
      async () => metricValue(await metrics(url), 'dmr_control_announcements_total', '{result="ignored"}') === 1,
      2000,
      'ignored',
    );
    expect(standIn.registryFetches - fetchesBefore).toBe(1);
  });

  it('refuses a registry older than the version in force and keeps the last good one', async () => {
    const { server, url, logs } = await start({ agents: [a, b], configVersion: 5 });
    standIn.setRegistry({ agents: [a], configVersion: 3 });
    const fetchesBefore = standIn.registryFetches;
    await announce(rabbit.amqpUrl, [announcement(6, ['registry'])]);
    await waitUntil(() => logs.find({ code: 'DMR_REGISTRY_STALE_VERSION' }).length > 0, 5000, 'stale version refused');
    expect(standIn.registryFetches).toBeGreaterThan(fetchesBefore);
    const text = await metrics(url);
    expect(metricValue(text, 'dmr_config_version')).toBe(5);
    expect(metricValue(text, 'dmr_registry_syncs_total', '{result="refused"}')).toBe(1);
    expect(server.registry.has(b.id)).toBe(true);
    expect(server.readiness().isReady).toBe(true);
  });

  it('survives malformed announcements, drops and counts them, and still acts on the next good one', async () => {
    const { server, url } = await start({ agents: [a, b], configVersion: 1 });
    const garbage = [
      Buffer.from('not json'),
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.alloc(0),
      Buffer.alloc(64 * 1024, 0x5b),
      Buffer.from('{"configVersion":"9","kinds":["registry"],"at":"now"}'),
      Buffer.from('{"__proto__":{"polluted":true},"configVersion":1e400}'),
      Buffer.from(JSON.stringify({ configVersion: 9, kinds: ['registry'] })),
    ];
    standIn.setRegistry({ agents: [a, b, c], configVersion: 2 });
    await announce(rabbit.amqpUrl, [...garbage, announcement(2, ['registry'])]);
    await waitUntil(async () => metricValue(await metrics(url), 'dmr_config_version') === 2, 2000, 'version 2 after the garbage');
    expect(metricValue(await metrics(url), 'dmr_control_announcements_total', '{result="invalid"}')).toBe(garbage.length);
    expect(server.readiness().isReady).toBe(true);
    expect(server.control.listener?.status).toBe('bound');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('cuts a disabled agent at once, refuses messages to it with DMR_ROUTE_RECIPIENT_DISABLED and its handshake with DMR_AUTH_AGENT_DISABLED', async () => {
    const { url, server } = await start({ agents: [a, b], configVersion: 1 });
    const sender = await connect(url, a);
    const victim = await connect(url, b);
    expect(await sender.send(wireTo(a, b.id))).toEqual({ status: 'ok' });
    const cut = new Promise<void>((resolve) => victim.socket.once('disconnect', () => resolve()));

    standIn.setRegistry({ agents: [a], configVersion: 2, disabled: [b.id] });
    await announce(rabbit.amqpUrl, [announcement(2, ['registry'])]);
    await cut;
    expect(server.registry.isDisabled(b.id)).toBe(true);
    expect(await sender.send(wireTo(a, b.id))).toMatchObject({ status: 'error', error: 'DMR_ROUTE_RECIPIENT_DISABLED' });
    expect(await sender.send(wireTo(a, 'never-registered'))).toMatchObject({ error: 'DMR_VALIDATION_UNKNOWN_RECIPIENT' });
    const refused = await connectRawAgent(url, b).then(
      (raw) => {
        raw.close();
        return undefined;
      },
      (error: unknown) => refusalCode(error),
    );
    expect(refused).toBe('DMR_AUTH_AGENT_DISABLED');
    // the sender was never cut
    expect(sender.socket.connected).toBe(true);
  });

  it('cuts a revoked agent of the second CA after a crl push from the URL, while the first CA keeps its agents', async () => {
    const { url, logs } = await start({ agents: [a, c], configVersion: 1 });
    // c's certificate comes from the second CA: the registry lists it, and it is c's TLS client certificate
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const issued = await secondCa.agentForKey(c.id, publicPem);
    const cOfSecondCa: Identity = { id: c.id, privatePem, publicPem, certificatePem: issued.cert };
    standIn.setRegistry({ agents: [a, cOfSecondCa], configVersion: 2 });
    await announce(rabbit.amqpUrl, [announcement(2, ['registry'])]);
    await waitUntil(() => started[0]?.server.registry.configVersion === 2, 5000, 'version 2');

    const first = await connect(url, a);
    const tls = { ca: pki.caCert, cert: issued.cert, key: privatePem };
    const victim = await connect(url, cOfSecondCa, tls);
    const crlFetchesBefore = standIn.crlFetches;
    const disconnected = new Promise<number>((resolve) => victim.socket.once('disconnect', () => resolve(Date.now())));

    await secondCa.revokeAgent(c.id);
    const pushedAt = Date.now();
    await announce(rabbit.amqpUrl, [announcement(3, ['crl'])]);
    const elapsedMs = (await disconnected) - pushedAt;
    process.stdout.write(`CRL push: revoked agent cut ${elapsedMs} ms after the announcement\n`);
    expect(elapsedMs).toBeLessThan(5000);
    expect(standIn.crlFetches).toBeGreaterThan(crlFetchesBefore);
    expect(logs.find({ msg: 'CRL put in force', issuer: 'CN=DMR Test CA 2' }).length).toBeGreaterThan(0);

    const reconnect = await connectRawAgent(url, cOfSecondCa, tls).then(
      (raw) => {
        raw.close();
        return undefined;
      },
      (error: unknown) => refusalCode(error),
    );
    expect(reconnect).toBe('DMR_AUTH_CERTIFICATE_REVOKED');
    expect(first.socket.connected).toBe(true);
    expect(await first.send(wireTo(a, a.id))).toEqual({ status: 'ok' });
    const text = await metrics(url);
    expect(text).toMatch(/dmr_crl_number\{issuer="CN=DMR Test CA 2"\} \d+/);
    expect(text).toMatch(/dmr_crl_number\{issuer="CN=DMR Test CA"\} \d+/);
  });

  it('keeps the last good CRLs when the URL fails, and says so in readiness with a CRL close to nextUpdate', async () => {
    // every CRL of the test PKI expires within 7 days: with a 30-day warning it is "expiring" from the start
    const { url, logs } = await start({ agents: [a], configVersion: 1 }, { DMR_TLS_CRL_WARN_BEFORE_MS: String(30 * 86_400_000) });
    const before = JSON.parse((await probe(`${url}/v1/ready`)).text) as {
      status: string;
      checks: Record<string, string>;
      detail: Record<string, string>;
    };
    expect(before.status).toBe('ready');
    expect(before.checks).toMatchObject({ crl: 'expiring', crlFetch: 'ok' });
    expect(before.detail.crl).toMatch(/^CRL in force \(CN=DMR Test CA( 2)?\) expires at .*DMR_TLS_CRL_URL must serve a newer CRL/);
    expect(metricValue(await metrics(url), 'dmr_crl_expiring', '{issuer="CN=DMR Test CA"}')).toBe(1);

    standIn.failWith = 503;
    await announce(rabbit.amqpUrl, [announcement(2, ['crl'])]);
    await waitUntil(async () => JSON.parse((await probe(`${url}/v1/ready`)).text).checks.crlFetch === 'failing', 5000, 'fetch failing');
    const during = JSON.parse((await probe(`${url}/v1/ready`)).text) as { status: string; detail: Record<string, string> };
    expect(during.status).toBe('ready');
    expect(during.detail.crl).toContain('the last read of DMR_TLS_CRL_URL failed');
    expect(logs.find({ code: 'DMR_CA_CRL_FETCH_FAILED' }).length).toBe(1);
    expect(metricValue(await metrics(url), 'dmr_crl_refusals_total', '{code="DMR_CA_CRL_FETCH_FAILED"}')).toBeGreaterThanOrEqual(1);
    // the CRLs in force still work: an agent connects
    await connect(url, a);
  });

  it('refuses every agent until the first CRL arrived from the URL, then serves them', async () => {
    standIn.failWith = 503;
    standIn.setRegistry({ agents: [a], configVersion: 1 });
    const env = serverEnv(rabbit, `${standIn.url}/centops/configuration`, {
      ...(await serverTlsEnv()),
      DMR_TLS_CA_FILE: caBundlePath,
      DMR_TLS_CRL_FILE: '',
      DMR_TLS_CRL_URL: `${standIn.url}/v1/crl`,
      DMR_TLS_CRL_FETCH_INTERVAL_MS: '600000',
      CENTOPS_CONFIGURATION_CA_FILE: pki.caCertPath,
      CENTOPS_CONFIGURATION_URL: `file://${writeRegistryFile()}`,
    });
    const logs = new LogCapture('dmr-server');
    const server = buildServer(loadServerConfig(env), { log: logs.logger });
    const { port } = await server.start();
    const url = `https://127.0.0.1:${port}`;
    started.push({ server, url, logs });
    await waitUntil(
      () => server.broker.isConnected && server.registry.isLoaded && server.control.listener?.status === 'bound',
      15_000,
      'up',
    );
    const ready = await probe(`${url}/v1/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text).detail.crl).toContain('no CRL in force yet');
    const refused = await connectRawAgent(url, a).then(
      () => 'connected',
      (error: unknown) => refusalCode(error),
    );
    expect(refused).toBe('DMR_AUTH_CERTIFICATE_UNTRUSTED');

    standIn.failWith = undefined;
    await announce(rabbit.amqpUrl, [announcement(2, ['crl'])]);
    await waitUntil(async () => (await probe(`${url}/v1/ready`)).status === 200, 5000, 'ready once the CRL arrived');
    await connect(url, a);
  });

  it('takes a DMR_TLS_CRL_FILE bundle of one CRL per CA: agents of both CAs connect, a revocation in either cuts', async () => {
    const bundlePath = join(secondCa.dir, 'crl-bundle.pem');
    const writeBundle = () => writeFileSync(bundlePath, standIn.crlBundle());
    writeBundle();
    const { identity: d, tls } = await secondCaAgent();
    const { url } = await start(
      { agents: [a, d], configVersion: 1 },
      { DMR_TLS_CRL_URL: '', DMR_TLS_CRL_FILE: bundlePath, DMR_TLS_CRL_RELOAD_INTERVAL_MS: '200' },
    );
    const first = await connect(url, a);
    const second = await connect(url, d, tls);
    const cut = new Promise<void>((resolve) => second.socket.once('disconnect', () => resolve()));
    await secondCa.revokeAgent(d.id);
    writeBundle();
    await cut;
    expect(first.socket.connected).toBe(true);
  });

  /** A fresh agent whose key is certified by the second CA, with the TLS material to connect as it. */
  async function secondCaAgent(): Promise<{ identity: Identity; tls: RawTls }> {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const id = randomUUID();
    const issued = await secondCa.agentForKey(id, publicPem);
    return {
      identity: { id, privatePem, publicPem, certificatePem: issued.cert },
      tls: { ca: pki.caCert, cert: issued.cert, key: privatePem },
    };
  }

  let registryFile: string | undefined;
  function writeRegistryFile(): string {
    registryFile = join(secondCa.dir, 'agents.json');
    writeFileSync(registryFile, JSON.stringify(standIn.registryDocument()));
    return registryFile;
  }
  afterAll(() => {
    if (registryFile) rmSync(registryFile, { force: true });
  });
});
