// Revocation, CRLs per CA, the republish timer, two control instances on one database, and the CA change-over, on
// real CA files and a real SQLite store; the CRLs are checked by OpenSSL in real TLS handshakes.

import { randomUUID } from 'node:crypto';
import { readCrl, x509 } from '@dmr/shared/pki';
import { type PostgresCluster, startPostgres } from '@dmr/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { activateRingCa, addCaToRing, retireRingCa } from '../../src/ca/index.js';
import { makeCsr, type TestKeyPair, testKeyPair } from '../helpers/csr.js';
import { type LifecycleFixture, lifecycleFixture, OPERATOR, okOf } from '../helpers/lifecycle-fixture.js';
import { startProbeServer, tryConnect } from './helpers/tls-probe.js';

const DAY_MS = 86_400_000;
let fx: LifecycleFixture;

beforeEach(async () => {
  fx = await lifecycleFixture();
});

afterEach(async () => {
  await fx.close();
});

interface Enrolled {
  readonly agentId: string;
  readonly keys: TestKeyPair;
  readonly serial: string;
  readonly certificate: string;
}

async function enrollAgent(agentId = randomUUID(), keys = testKeyPair()): Promise<Enrolled> {
  await fx.createAgent(agentId).catch(() => undefined);
  const token = okOf(await fx.lifecycle.createEnrollmentToken(OPERATOR, agentId)).token;
  const issued = okOf(await fx.lifecycle.enroll({ token, csr: await makeCsr(keys, { cn: agentId }) }));
  return { agentId, keys, serial: issued.serial, certificate: issued.certificate };
}

function crlsOf(bundle: string): x509.X509Crl[] {
  return [...bundle.matchAll(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----\n/g)].map((match) => new x509.X509Crl(match[0]));
}

describe('revocation', () => {
  it('revokes in the store, signs a CRL with the serial and reason and a higher number, cuts the agent, bumps and announces', async () => {
    const agent = await enrollAgent();
    const before = await readCrl(await fx.lifecycle.crlBundle(), fx.lifecycle.caBundle());
    const revocation = okOf(await fx.lifecycle.revoke(OPERATOR, agent.serial.toUpperCase(), 'keyCompromise'));
    expect(revocation.revoked.map((record) => [record.serial, record.revocationReason])).toEqual([[agent.serial, 'keyCompromise']]);
    expect(revocation.agentsCut).toEqual([agent.agentId]);
    expect(fx.announcements.at(-1)).toEqual({ configVersion: revocation.configVersion, kinds: ['crl', 'registry'] });
    expect(await fx.store.configVersion()).toBe(revocation.configVersion);
    expect((await fx.store.agents.get(agent.agentId))?.authenticationCertificate).toBeNull();

    const bundle = await fx.lifecycle.crlBundle();
    const after = await readCrl(bundle, fx.lifecycle.caBundle());
    expect(after.crlNumber).toBe((before.crlNumber ?? 0n) + 1n);
    expect([...after.revokedSerials]).toEqual([agent.serial]);
    const [crl] = crlsOf(bundle);
    expect(crl?.entries.map((entry) => [entry.serialNumber.toLowerCase(), entry.reason])).toEqual([
      [agent.serial, x509.X509CrlReason.keyCompromise],
    ]);
    expect(bundle.startsWith('-----BEGIN X509 CRL-----\n')).toBe(true);
  });

  it('with keyCompromise also revokes the renewed certificates of the same key, not those of another key', async () => {
    const agent = await enrollAgent();
    const sameKey = okOf(
      await fx.lifecycle.issue({
        identity: { kind: 'agent', id: agent.agentId },
        actor: OPERATOR,
        csr: await makeCsr(agent.keys, { cn: agent.agentId }),
      }),
    );
    const otherKey = okOf(
      await fx.lifecycle.issue({
        identity: { kind: 'agent', id: agent.agentId },
        actor: OPERATOR,
        csr: await makeCsr(testKeyPair(), { cn: agent.agentId }),
      }),
    );
    const revocation = okOf(await fx.lifecycle.revoke(OPERATOR, agent.serial, 'keyCompromise'));
    expect(revocation.revoked.map((record) => record.serial).sort()).toEqual([agent.serial, sameKey.serial].sort());
    expect(await fx.store.certificates.get(otherKey.serial)).toMatchObject({ revokedAt: null });
    // the agent's current certificate is the other key's: the registry keeps it
    expect(revocation.agentsCut).toEqual([]);
    expect(revocation.kinds).toEqual(['crl']);
  });

  it('refuses an unknown serial, a second revocation, a bad serial and a bad reason, writing nothing', async () => {
    const agent = await enrollAgent();
    const version = await fx.store.configVersion();
    expect(await fx.lifecycle.revoke(OPERATOR, 'abcdef', 'superseded')).toMatchObject({
      ok: false,
      code: 'DMR_CA_NOT_ISSUED',
      field: 'serial',
    });
    expect(await fx.lifecycle.revoke(OPERATOR, 'zz', 'superseded')).toMatchObject({
      ok: false,
      code: 'DMR_CA_INVALID_REQUEST',
      field: 'serial',
    });
    expect(await fx.lifecycle.revoke(OPERATOR, agent.serial, 'certificateHold')).toMatchObject({
      ok: false,
      code: 'DMR_CA_INVALID_REQUEST',
      field: 'reason',
    });
    expect(await fx.store.configVersion()).toBe(version);
    okOf(await fx.lifecycle.revoke(OPERATOR, agent.serial, 'superseded'));
    expect(await fx.lifecycle.revoke(OPERATOR, agent.serial, 'superseded')).toMatchObject({ ok: false, code: 'DMR_CA_ALREADY_REVOKED' });
  });

  it('makes OpenSSL refuse the revoked certificate and accept the others, with the CRL bundle in force', async () => {
    const [kept, revoked] = [await enrollAgent(), await enrollAgent()];
    okOf(await fx.lifecycle.revoke(OPERATOR, revoked.serial, 'privilegeWithdrawn'));
    const serverKeys = testKeyPair();
    const token = okOf(await fx.lifecycle.createServiceEnrollmentToken(OPERATOR, { kind: 'server', id: 'probe', dnsNames: ['localhost'] }));
    const server = okOf(await fx.lifecycle.enroll({ token: token.token, csr: await makeCsr(serverKeys, { cn: 'probe' }) }));
    const ca = fx.lifecycle.caBundle();
    const key = serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const tls = { key, cert: server.certificate, ca, crl: await fx.lifecycle.crlBundle() };
    const clientOf = (agent: Enrolled) => ({
      ca,
      servername: 'localhost',
      key: agent.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      cert: agent.certificate,
    });
    const enforcing = await startProbeServer(tls);
    try {
      expect((await tryConnect(enforcing.port, clientOf(kept))).accepted).toBe(true);
      expect((await tryConnect(enforcing.port, clientOf(revoked))).accepted).toBe(false);
    } finally {
      await enforcing.close();
    }
    // OpenSSL's verdict, read on a probe that lets every client finish its handshake
    const probe = await startProbeServer({ ...tls, rejectUnauthorized: false });
    try {
      await tryConnect(probe.port, clientOf(kept));
      await tryConnect(probe.port, clientOf(revoked));
      expect(probe.seen.map((peer) => [peer.serial?.toLowerCase(), peer.authorized, peer.authorizationError])).toEqual([
        [kept.serial, true, undefined],
        [revoked.serial, false, 'CERT_REVOKED'],
      ]);
    } finally {
      await probe.close();
    }
  });
});

describe('CRL publishing', () => {
  it('signs one CRL per trusted CA on first use, each verified by its CA', async () => {
    const agents = crlsOf(await fx.lifecycle.crlBundle('agents'));
    const broker = crlsOf(await fx.lifecycle.crlBundle('broker'));
    expect(agents.map((crl) => crl.issuer)).toEqual(['CN=DMR agents CA 1']);
    expect(broker.map((crl) => crl.issuer)).toEqual(['CN=DMR broker CA 1']);
    expect(await readCrl(await fx.lifecycle.crlBundle('broker'), fx.lifecycle.caBundle('broker'))).toMatchObject({ crlNumber: 1n });
    const first = agents[0];
    expect(first?.nextUpdate?.getTime()).toBe(fx.clock.now().getTime() + 7 * DAY_MS);
    expect(first?.thisUpdate.getTime()).toBe(fx.clock.now().getTime() - 5 * 60_000);
  });

  it('republishes when less than the margin is left before nextUpdate, with a bump and a crl announcement, and not before', async () => {
    await fx.lifecycle.checkNow();
    const first = await readCrl(await fx.lifecycle.crlBundle(), fx.lifecycle.caBundle());
    const announced = fx.announcements.length;
    fx.clock.advanceMs(3 * DAY_MS);
    await fx.lifecycle.checkNow();
    expect((await readCrl(await fx.lifecycle.crlBundle(), fx.lifecycle.caBundle())).crlNumber).toBe(first.crlNumber);
    expect(fx.announcements).toHaveLength(announced);
    fx.clock.advanceMs(DAY_MS);
    await fx.lifecycle.checkNow();
    const second = await readCrl(await fx.lifecycle.crlBundle(), fx.lifecycle.caBundle());
    expect(second.crlNumber).toBe((first.crlNumber ?? 0n) + 1n);
    expect(second.nextUpdate?.toISOString()).toBe('2026-12-18T10:00:00.000Z');
    const version = await fx.store.configVersion();
    expect(fx.announcements.at(-1)).toEqual({ configVersion: version, kinds: ['crl'] });
    expect(okOf(await fx.store.changes.list({ action: 'crl.publish' })).items.map((change) => change.subjectId)).toEqual([
      'agents-1',
      'broker-1',
      'agents-1',
      'broker-1',
    ]);
  });

  it('runs on its timer once started, and stops', async () => {
    await fx.lifecycle.start();
    const first = await readCrl(await fx.lifecycle.crlBundle(), fx.lifecycle.caBundle());
    fx.clock.advanceMs(4 * DAY_MS);
    await expect
      .poll(async () => (await readCrl(await fx.lifecycle.crlBundle(), fx.lifecycle.caBundle())).crlNumber, { timeout: 5000 })
      .toBe((first.crlNumber ?? 0n) + 1n);
    await fx.lifecycle.stop();
    await fx.lifecycle.stop();
  });

  it('numbers online CRLs above what dmrctl published offline for the same CA', async () => {
    const { publishCrl } = await import('../../src/ca/index.js');
    for (let i = 0; i < 3; i++) await publishCrl(`${fx.caDir}/agents-1`, { outPath: `${fx.dir}/offline-crl.pem` });
    await fx.lifecycle.checkNow();
    expect((await readCrl(await fx.lifecycle.crlBundle(), fx.lifecycle.caBundle())).crlNumber).toBe(4n);
  });
});

describe('two control instances on one PostgreSQL database', () => {
  let cluster: PostgresCluster;
  let ha: LifecycleFixture;

  beforeAll(async () => {
    cluster = await startPostgres();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  beforeEach(async () => {
    ha = await lifecycleFixture({}, await cluster.createDatabase(`certs_${randomUUID().replaceAll('-', '')}`));
  });

  afterEach(async () => {
    await ha.close();
  });

  it('sign only once per period however often both check at the same time, and serve the same CRL', async () => {
    const second = await ha.secondInstance();
    await Promise.all([ha.lifecycle.checkNow(), second.lifecycle.checkNow()]);
    ha.clock.advanceMs(4 * DAY_MS);
    await Promise.all([ha.lifecycle.checkNow(), second.lifecycle.checkNow(), ha.lifecycle.checkNow(), second.lifecycle.checkNow()]);
    const published = okOf(await ha.store.changes.list({ action: 'crl.publish', subjectId: 'agents-1' })).items;
    expect(published).toHaveLength(2);
    expect(await second.lifecycle.crlBundle()).toBe(await ha.lifecycle.crlBundle());
    expect((await readCrl(await second.lifecycle.crlBundle(), second.lifecycle.caBundle())).crlNumber).toBe(2n);
    expect(ha.lines.join('')).not.toContain('CRL republishing failed');
  });

  it('enroll a server with a service token exactly once when both instances try at the same time', async () => {
    const second = await ha.secondInstance();
    const grant = okOf(
      await ha.lifecycle.createServiceEnrollmentToken(OPERATOR, { kind: 'server', id: 'dmr-ha', dnsNames: ['dmr-ha.example'] }),
    );
    const csr = async () => makeCsr(testKeyPair(), { uris: ['urn:dmr:server:dmr-ha'] });
    const outcomes = await Promise.all([
      ha.lifecycle.enroll({ token: grant.token, csr: await csr() }),
      second.lifecycle.enroll({ token: grant.token, csr: await csr() }),
    ]);
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
    expect(outcomes.find((outcome) => !outcome.ok)).toMatchObject({ code: 'DMR_CONTROL_TOKEN_USED' });
    expect(okOf(await ha.store.certificates.list({ subjectId: 'dmr-ha' })).items).toHaveLength(1);
  });

  it('revoke on one instance and serve the new CRL from the other at once', async () => {
    const second = await ha.secondInstance();
    const agentId = randomUUID();
    await ha.createAgent(agentId);
    const token = okOf(await ha.lifecycle.createEnrollmentToken(OPERATOR, agentId)).token;
    const issued = okOf(await ha.lifecycle.enroll({ token, csr: await makeCsr(testKeyPair(), { cn: agentId }) }));
    okOf(await ha.lifecycle.revoke(OPERATOR, issued.serial, 'cessationOfOperation'));
    const served = await readCrl(await second.lifecycle.crlBundle(), second.lifecycle.caBundle());
    expect([...served.revokedSerials]).toEqual([issued.serial]);
  });
});

describe('CA change-over', () => {
  it('publishes a new CA beside the old, switches signing to it, then retires the old one', async () => {
    const early = await enrollAgent();
    await fx.lifecycle.checkNow();
    const announced = fx.announcements.length;

    // 1. publish: both trusted, each with its own CRL, the old one still signing
    okOf(
      await addCaToRing(fx.caDir, {
        id: 'agents-2',
        purpose: 'agents',
        commonName: 'DMR agents CA 2',
        now: new Date(fx.clock.now().getTime() - DAY_MS),
      }),
    );
    await fx.lifecycle.checkNow();
    expect(fx.announcements.slice(announced).map((a) => a.kinds)).toEqual([['crl']]);
    const bundle = fx.lifecycle.caBundle();
    expect(bundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(crlsOf(await fx.lifecycle.crlBundle()).map((crl) => crl.issuer)).toEqual(['CN=DMR agents CA 1', 'CN=DMR agents CA 2']);
    expect(new x509.X509Certificate((await enrollAgent()).certificate).issuer).toBe('CN=DMR agents CA 1');
    expect(fx.lifecycle.caBundle('broker').match(/BEGIN CERTIFICATE/g)).toHaveLength(1);

    // 2. switch: new certificates (and renewals) come from the new CA; the old CA's certificates stay trusted
    okOf(await activateRingCa(fx.caDir, 'agents-2'));
    await fx.lifecycle.checkNow();
    const late = await enrollAgent();
    expect(new x509.X509Certificate(late.certificate).issuer).toBe('CN=DMR agents CA 2');
    const renewed = okOf(
      await fx.lifecycle.renew({
        certificateDer: new Uint8Array(new x509.X509Certificate(early.certificate).rawData),
        csr: await makeCsr(early.keys, { cn: early.agentId }),
      }),
    );
    expect(new x509.X509Certificate(renewed.certificate).issuer).toBe('CN=DMR agents CA 2');
    expect(renewed.caCertificates).toBe(bundle);
    okOf(await fx.lifecycle.revoke(OPERATOR, early.serial, 'superseded'));
    const crls = crlsOf(await fx.lifecycle.crlBundle());
    expect(crls.map((crl) => [crl.issuer, crl.entries.length])).toEqual([
      ['CN=DMR agents CA 1', 1],
      ['CN=DMR agents CA 2', 0],
    ]);

    // 3. retire: the old CA leaves both bundles; servers are told to re-fetch
    okOf(await retireRingCa(fx.caDir, 'agents-1'));
    const version = await fx.store.configVersion();
    await fx.lifecycle.checkNow();
    expect(await fx.store.configVersion()).toBe(version + 1);
    expect(fx.announcements.at(-1)).toEqual({ configVersion: version + 1, kinds: ['crl'] });
    expect(fx.lifecycle.caBundle().match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect(crlsOf(await fx.lifecycle.crlBundle()).map((crl) => crl.issuer)).toEqual(['CN=DMR agents CA 2']);
  });

  it('keeps the ring in force when ring.json breaks, and says so in the log', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${fx.caDir}/ring.json`, '{"version":1,"cas":[{"id":"agents-1","purpose":"agents","status":"published"}]}');
    await fx.lifecycle.checkNow();
    expect(fx.lifecycle.caBundle().match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect(fx.lines.join('')).toContain('ring.json could not be loaded');
    expect((await enrollAgent()).certificate).toContain('BEGIN CERTIFICATE');
  });
});
