// Issue 18: servers and agents renew their own certificates over mTLS before expiry and reload them without dropping
// traffic; a certificate rotated on disk by anyone (any CA) is reloaded too. dmr-control's certificate endpoints are
// played by test/support/fake-control.ts (real TLS, the test PKI's CA).
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { testKeyPair } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  testPki,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { FakeControl } from '../support/fake-control.js';
import { TestPki } from '../support/pki.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent } from '../support/raw-agent.js';

const HOUR_MS = 3_600_000;
const SERVER_PROFILE = {
  commonName: 'localhost',
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1'],
  uris: ['urn:dmr:server:test-server'],
  isServer: true,
};

/** The serial (hex, upper case) of the certificate a new TLS handshake with `port` gets. */
function handshakeSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
      socket.end();
      resolve(serial.toUpperCase());
    });
    socket.once('error', reject);
  });
}

/** A metric's value from a Prometheus text, or undefined. */
function metric(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('certificate renewal and reload without dropping traffic', () => {
  let rabbit: RabbitVhostHandle;
  let pki: TestPki;
  let control: FakeControl;
  let registry: RegistryFile;
  let receiver: Receiver;
  let server: RunningServer;
  let serverFiles: { certFile: string; keyFile: string; caFile: string };
  let a: Identity;
  let b: Identity;
  let dir: string;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dmr-renew-'));
    pki = await testPki();
    control = await new FakeControl(pki).start();
    rabbit = await useRabbitVhost();
    a = await makeIdentity('ec');
    b = await makeIdentity('rsa');
    registry = new RegistryFile([a, b]);
    receiver = await new Receiver().start();
    const pair = testKeyPair('ec');
    serverFiles = { certFile: join(dir, 'server.cert.pem'), keyFile: join(dir, 'server.key.pem'), caFile: join(dir, 'agents-ca.pem') };
    writeFileSync(serverFiles.certFile, await control.issue(SERVER_PROFILE, pair.publicPem));
    writeFileSync(serverFiles.keyFile, pair.privatePem, { mode: 0o600 });
    copyFileSync(pki.caCertPath, serverFiles.caFile);
    server = await startServer(
      serverEnv(rabbit, registry.url, {
        DMR_ALLOW_PLAINTEXT: 'false',
        DMR_TLS_CERT_FILE: serverFiles.certFile,
        DMR_TLS_KEY_FILE: serverFiles.keyFile,
        DMR_TLS_CA_FILE: serverFiles.caFile,
        DMR_TLS_CRL_FILE: pki.crlPath,
        DMR_TLS_CRL_RELOAD_INTERVAL_MS: '500',
        DMR_CONTROL_URL: control.url,
        DMR_CONTROL_CA_FILE: control.caFile,
        DMR_CERT_RELOAD_INTERVAL_MS: '200',
      }),
    );
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await server?.server.stop();
    await receiver?.close();
    await control?.stop();
    registry?.remove();
    await rabbit?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('server: renews its TLS certificate with dmr-control and swaps it live: a connected agent stays, a new handshake sees the new serial', async () => {
    const tls = server.server.certificateKeepers.tls;
    if (!tls) throw new Error('the server has no TLS keeper');
    const before = tls.facts;
    expect(await handshakeSerial(server.port, pki.caCert)).toBe(before.serial);
    const live = await connectRawAgent(server.url, a);
    let isDropped = false;
    live.socket.on('disconnect', () => {
      isDropped = true;
    });

    await tls.renewNow();
    const renew = control.calls.filter((call) => call.path === '/v1/renew').at(-1);
    expect(renew).toMatchObject({ status: 201, caller: 'urn:dmr:server:test-server' });
    expect(tls.facts.serial).toBe(renew?.serial);
    expect(tls.facts.serial).not.toBe(before.serial);
    // the key pair is kept: the same public key before and after
    expect(tls.facts.publicKeySha256).toBe(before.publicKeySha256);
    expect(await handshakeSerial(server.port, pki.caCert)).toBe(tls.facts.serial);
    // the files hold the renewed certificate (a restart starts with it)
    expect(readFileSync(serverFiles.certFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(new X509Certificate(readFileSync(serverFiles.certFile)).serialNumber.toUpperCase()).toBe(tls.facts.serial);
    // the old socket keeps working on its old TLS session
    expect(isDropped).toBe(false);
    expect(live.socket.connected).toBe(true);
    // it still carries events: the server answers on it
    expect(await live.send(wireTo(b.id, a.id))).toHaveProperty('status');
    live.close();

    const text = await server.server.metrics.registry.metrics();
    expect(metric(text, 'dmr_certificate_renewals_total', 'certificate="tls",outcome="success"')).toBe(1);
    expect(metric(text, 'dmr_certificate_expiry_seconds', 'certificate="tls"')).toBe(tls.facts.notAfterMs / 1000);
  });

  it('server: certificate files rotated on disk (new key pair) are reloaded within the interval; a broken pair is refused and the old one stays', async () => {
    const tls = server.server.certificateKeepers.tls;
    if (!tls) throw new Error('the server has no TLS keeper');
    const live = await connectRawAgent(server.url, b);
    // a key and certificate that do not belong together (the key written first, as a careless rotation would)
    const next = testKeyPair('ec');
    writeFileSync(serverFiles.keyFile, next.privatePem);
    await tls.checkFilesNow();
    const refusedAt = await server.server.metrics.registry.metrics();
    expect(metric(refusedAt, 'dmr_certificate_reloads_total', 'certificate="tls",result="refused"')).toBe(1);
    const inForce = tls.facts.serial;
    expect(await handshakeSerial(server.port, pki.caCert)).toBe(inForce);
    // the certificate follows: now the pair is whole and the poll picks it up
    writeFileSync(serverFiles.certFile, await control.issue(SERVER_PROFILE, next.publicPem));
    await waitUntil(() => tls.facts.serial !== inForce, 5000, 'rotated certificate in force');
    expect(await handshakeSerial(server.port, pki.caCert)).toBe(tls.facts.serial);
    expect(server.logs.find({ msg: 'certificate reloaded', isSameKey: false }).length).toBe(1);
    expect(live.socket.connected).toBe(true);
    live.close();
  });

  it('agent: renews at DMR_CERT_RENEW_AT_FRACTION with the same key and moves its connection while messages flow both ways: 0 lost, 0 refused', async () => {
    // A's client certificate lives 8 s: renewal is due at half of it; the old one expires mid-test, and the server
    // drops a connection whose certificate expired, so A keeps working only if the server has its renewed one
    control.lifetimeMs = () => 8000;
    const agentDir = mkdtempSync(join(dir, 'agent-a-'));
    const files = { keyFile: join(agentDir, 'a.key.pem'), certFile: join(agentDir, 'a.cert.pem'), caFile: join(agentDir, 'ca.pem') };
    writeFileSync(files.keyFile, a.privatePem, { mode: 0o600 });
    writeFileSync(files.certFile, await control.issue({ commonName: a.id, uris: [`urn:dmr:agent:${a.id}`], isServer: false }, a.publicPem));
    copyFileSync(pki.caCertPath, files.caFile);
    const issuedAt = Date.now();
    control.lifetimeMs = () => HOUR_MS;
    const agentA = await startAgent(a, server.url, receiver.url, {
      AGENT_PRIVATE_KEY: '',
      AGENT_PRIVATE_KEY_FILE: files.keyFile,
      DMR_TLS_CERT_FILE: files.certFile,
      DMR_TLS_CA_FILE: files.caFile,
      DMR_CONTROL_URL: control.url,
      DMR_CONTROL_CA_FILE: control.caFile,
      DMR_CERT_RENEW_AT_FRACTION: '0.5',
      DMR_CERT_RELOAD_INTERVAL_MS: '200',
    });
    const agentB = await startAgent(b, server.url, receiver.url);
    stops.push(
      () => agentA.agent.stop(),
      () => agentB.agent.stop(),
    );
    const firstSerial = agentA.agent.certificates?.facts.serial;
    const keyBefore = agentA.agent.certificates?.facts.publicKeySha256;

    const sent = await sendBothWaysUntil(agentA, agentB, issuedAt + 10_000);
    expect(sent.refused).toEqual([]);
    expect(sent.accepted.length).toBeGreaterThan(50);
    await waitUntil(() => sent.accepted.every((id) => receiver.countOf(id) >= 1), 15_000, 'every accepted message delivered');
    expect(sent.accepted.filter((id) => receiver.countOf(id) !== 1)).toEqual([]);

    const facts = agentA.agent.certificates?.facts;
    expect(facts?.serial).not.toBe(firstSerial);
    expect(facts?.publicKeySha256).toBe(keyBefore);
    expect(control.calls.some((call) => call.path === '/v1/renew' && call.caller === `urn:dmr:agent:${a.id}`)).toBe(true);
    expect(agentA.logs.find({ msg: 'moved to a new connection with the new client certificate' }).length).toBe(1);
    // the first certificate expired at issuedAt + ~7 s; the server would have dropped a connection still using it
    expect(server.logs.find({ agentId: a.id, code: 'DMR_AUTH_CERTIFICATE_EXPIRED' })).toEqual([]);
    expect(agentA.logs.find({ msg: 'disconnected from the DMR server' })).toEqual([]);
    const text = await agentA.agent.metrics.registry.metrics();
    expect(metric(text, 'dmr_certificate_renewals_total', 'certificate="tls",outcome="success"')).toBe(1);
    expect(metric(text, 'dmr_certificate_expiry_seconds', 'certificate="tls"')).toBe((facts?.notAfterMs ?? 0) / 1000);
    // one agent per identity on the server: the next test starts another A
    await agentA.agent.stop();
    await agentB.agent.stop();
  });

  it('agent: a refused renewal keeps the certificate in force, is counted and logged; a later attempt succeeds', async () => {
    const agentA = await startRenewingAgent();
    const keeper = agentA.agent.certificates;
    if (!keeper) throw new Error('no keeper');
    const serial = keeper.facts.serial;
    control.renewRefusal = { status: 403, code: 'DMR_CONTROL_ROLE_FORBIDDEN' };
    await keeper.renewNow();
    expect(keeper.facts.serial).toBe(serial);
    expect(
      agentA.logs.find({
        msg: 'certificate renewal failed; the certificate in force stays and renewal is retried',
        code: 'DMR_CERT_RENEWAL_REFUSED',
      }).length,
    ).toBe(1);
    expect(agentA.logs.text.join('\n')).toContain('DMR_CONTROL_ROLE_FORBIDDEN');
    control.renewRefusal = undefined;
    await keeper.renewNow();
    expect(keeper.facts.serial).not.toBe(serial);
    const text = await agentA.agent.metrics.registry.metrics();
    expect(metric(text, 'dmr_certificate_renewals_total', 'certificate="tls",outcome="refused"')).toBe(1);
    expect(metric(text, 'dmr_certificate_renewals_total', 'certificate="tls",outcome="success"')).toBe(1);
    // nothing secret in any log line
    expect(agentA.logs.text.join('\n')).not.toContain('PRIVATE KEY');
    await agentA.agent.stop();
  });

  it('agent: a new certificate the server refuses (another CA) does not cut the agent off: the old connection stays and serves', async () => {
    const otherPki = await new TestPki().init('Some Other CA');
    try {
      const agentA = await startRenewingAgent({ DMR_CERT_RELOAD_INTERVAL_MS: '200' });
      const agentB = await startAgent(b, server.url, receiver.url);
      stops.push(() => agentB.agent.stop());
      const inForce = agentA.agent.certificates?.facts.serial;
      const foreign = await otherPki.agentForKey(a.id, a.publicPem);
      writeFileSync(agentA.certFile, foreign.cert);
      const failed = 'the new certificate could not be put in force; the one in force stays and the next check tries again';
      await waitUntil(() => agentA.logs.find({ msg: failed }).length === 1, 20_000, 'the switch refused');
      expect(agentA.agent.certificates?.facts.serial).toBe(inForce);
      expect(agentA.agent.linkState).toBe('connected');
      const body = v1Body(b.id);
      expect((await postMessage(agentA.url, body)).status).toBe(202);
      await waitUntil(() => receiver.countOf(body.id) === 1, 10_000, 'delivery on the old connection');
      const text = await agentA.agent.metrics.registry.metrics();
      expect(metric(text, 'dmr_certificate_reloads_total', 'certificate="tls",result="failed"')).toBeGreaterThanOrEqual(1);
      await agentA.agent.stop();
      await agentB.agent.stop();
    } finally {
      otherPki.remove();
    }
  });

  /** An agent (identity A) whose client certificate is renewed through the fake dmr-control. */
  async function startRenewingAgent(extra: Record<string, string> = {}): Promise<RunningAgent & { certFile: string }> {
    const agentDir = mkdtempSync(join(dir, 'agent-'));
    const files = { keyFile: join(agentDir, 'a.key.pem'), certFile: join(agentDir, 'a.cert.pem') };
    writeFileSync(files.keyFile, a.privatePem, { mode: 0o600 });
    writeFileSync(files.certFile, await control.issue({ commonName: a.id, uris: [`urn:dmr:agent:${a.id}`], isServer: false }, a.publicPem));
    const running = await startAgent(a, server.url, receiver.url, {
      AGENT_PRIVATE_KEY: '',
      AGENT_PRIVATE_KEY_FILE: files.keyFile,
      DMR_TLS_CERT_FILE: files.certFile,
      DMR_TLS_CA_FILE: pki.caCertPath,
      DMR_CONTROL_URL: control.url,
      DMR_CONTROL_CA_FILE: control.caFile,
      ...extra,
    });
    stops.push(() => running.agent.stop());
    return { ...running, certFile: files.certFile };
  }

  /** Sends A→B and B→A, four at a time each way, until `untilMs`; returns the ids accepted (202) and the other answers. */
  async function sendBothWaysUntil(from: RunningAgent, to: RunningAgent, untilMs: number) {
    const accepted: string[] = [];
    const refused: Array<{ status: number; body: unknown }> = [];
    const lane = async (sender: RunningAgent, recipientId: string) => {
      while (Date.now() < untilMs) {
        const body = v1Body(recipientId);
        const answer = await postMessage(sender.url, body);
        if (answer.status === 202) accepted.push(body.id);
        else refused.push({ status: answer.status, body: answer.body });
      }
    };
    const lanes = [0, 1, 2, 3].flatMap(() => [lane(from, to.identity.id), lane(to, from.identity.id)]);
    await Promise.all(lanes);
    return { accepted, refused };
  }
});

/** A wire message from `senderId` to `recipientId` whose payload need not decrypt (the server only routes it). */
function wireTo(recipientId: string, senderId: string) {
  return {
    id: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    senderId,
    recipientId,
    type: 'ChatMessage',
    payload: 'e30.e30.e30.e30.e30',
  };
}
