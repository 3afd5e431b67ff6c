// Renewal over real mTLS: the caller's certificate (verified by the TLS handshake) authorises a new certificate for
// the same identity and key pair.

import { createHash, createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { x509 } from '@dmr/shared/pki';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueAgentCertificate } from '../../src/ca/index.js';
import { makeCsr, type TestKeyPair, testKeyPair } from '../helpers/csr.js';
import { type LifecycleFixture, lifecycleFixture, OPERATOR, okOf } from '../helpers/lifecycle-fixture.js';
import { type MtlsHarness, postRenew, startRenewHarness } from '../helpers/mtls-harness.js';

let fx: LifecycleFixture;
let harness: MtlsHarness;
let agentId: string;
let keys: TestKeyPair;
let current: { key: string; cert: string; serial: string };

function pem(key: TestKeyPair): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function spkiSha256(certificatePem: string): string {
  return createHash('sha256')
    .update(Buffer.from(new x509.X509Certificate(certificatePem).publicKey.rawData))
    .digest('hex');
}

beforeEach(async () => {
  fx = await lifecycleFixture();
  const serverKeys = testKeyPair();
  const serverToken = okOf(
    await fx.lifecycle.createServiceEnrollmentToken(OPERATOR, { kind: 'server', id: 'control', ipAddresses: ['127.0.0.1'] }),
  );
  const serverCert = okOf(await fx.lifecycle.enroll({ token: serverToken.token, csr: await makeCsr(serverKeys, { cn: 'control' }) }));
  harness = await startRenewHarness(fx.lifecycle, { key: pem(serverKeys), cert: serverCert.certificate, ca: fx.lifecycle.caBundle() });
  agentId = randomUUID();
  await fx.createAgent(agentId);
  keys = testKeyPair();
  const token = okOf(await fx.lifecycle.createEnrollmentToken(OPERATOR, agentId));
  const issued = okOf(await fx.lifecycle.enroll({ token: token.token, csr: await makeCsr(keys, { cn: agentId }) }));
  current = { key: pem(keys), cert: issued.certificate, serial: issued.serial };
});

afterEach(async () => {
  await harness.close();
  await fx.close();
});

function renew(csr: string, client: { key: string; cert: string } | null = current) {
  return postRenew(harness.port, fx.lifecycle.caBundle(), csr, client ?? undefined);
}

describe('renew', () => {
  it('issues a new certificate with the same key pair, replacing the registry entry, the old one left valid', async () => {
    fx.clock.advanceMs(60 * 86_400_000);
    const { status, body } = await renew(await makeCsr(keys, { cn: agentId }));
    expect(status).toBe(201);
    const value = body.value as { certificate: string; serial: string; caCertificates: string };
    expect(value.serial).not.toBe(current.serial);
    expect(spkiSha256(value.certificate)).toBe(spkiSha256(current.cert));
    expect(new x509.X509Certificate(value.certificate).notBefore.toISOString()).toBe('2027-02-05T09:55:00.000Z');
    expect(value.caCertificates).toBe(fx.lifecycle.caBundle());
    expect((await fx.store.agents.get(agentId))?.authenticationCertificate).toBe(value.certificate);
    expect(await fx.store.certificates.get(current.serial)).toMatchObject({ revokedAt: null });
    expect(await fx.store.certificates.get(value.serial)).toMatchObject({ subjectId: agentId, publicKeySha256: spkiSha256(current.cert) });
    expect(fx.announcements.at(-1)?.kinds).toEqual(['registry']);
    const renewedChange = okOf(await fx.store.changes.list({ action: 'certificate.renew' })).items;
    expect(renewedChange.map((change) => [change.subjectId, change.actor])).toEqual([
      [value.serial, { subject: `agent:${agentId}`, role: 'agent' }],
    ]);
  });

  it('renews with the renewed certificate again (a chain of renewals keeps the key)', async () => {
    const first = (await renew(await makeCsr(keys, { cn: agentId }))).body.value as { certificate: string };
    const second = await renew(await makeCsr(keys, { uris: [`urn:dmr:agent:${agentId}`] }), { key: current.key, cert: first.certificate });
    expect(second.status).toBe(201);
    expect(spkiSha256((second.body.value as { certificate: string }).certificate)).toBe(spkiSha256(current.cert));
  });

  it('refuses another key pair: renewal is not a rotation', async () => {
    const { status, body } = await renew(await makeCsr(testKeyPair(), { cn: agentId }));
    expect([status, body.code, body.field]).toEqual([400, 'DMR_CONTROL_RENEWAL_KEY_CHANGED', 'csr']);
  });

  it('refuses a CSR for another agent', async () => {
    const { body } = await renew(await makeCsr(keys, { cn: randomUUID() }));
    expect(body.code).toBe('DMR_CONTROL_CSR_SUBJECT_MISMATCH');
  });

  it('refuses a revoked certificate', async () => {
    okOf(await fx.lifecycle.revoke(OPERATOR, current.serial, 'superseded'));
    const { body } = await renew(await makeCsr(keys, { cn: agentId }));
    expect(body.code).toBe('DMR_CONTROL_CERTIFICATE_REVOKED');
    expect(okOf(await fx.store.certificates.list({ subjectId: agentId })).items).toHaveLength(1);
  });

  it('refuses an expired certificate', async () => {
    fx.clock.advanceMs(90 * 86_400_000);
    const { body } = await renew(await makeCsr(keys, { cn: agentId }));
    expect(body.code).toBe('DMR_CONTROL_CERTIFICATE_EXPIRED');
  });

  it('refuses a certificate of a trusted CA that this control plane did not issue (made offline by dmrctl)', async () => {
    const offline = await issueAgentCertificate(`${fx.caDir}/agents-1`, agentId, { outDir: `${fx.dir}/offline` });
    const client = { key: await readFile(offline.keyPath ?? '', 'utf8'), cert: offline.certificatePem };
    const offlineKeys: TestKeyPair = { type: 'ec-p256', privateKey: createPrivateKey(client.key), publicKey: createPublicKey(client.key) };
    const csr = await makeCsr(offlineKeys, { cn: agentId });
    const { status, body } = await renew(csr, client);
    expect([status, body.code]).toEqual([400, 'DMR_CONTROL_CERTIFICATE_UNKNOWN']);
  });

  it('is reached only with a client certificate the TLS layer verified', async () => {
    expect((await renew(await makeCsr(keys, { cn: agentId }), null)).status).toBe(401);
  });

  it('keeps a server its DNS names and IP addresses', async () => {
    const serverKeys = testKeyPair();
    const token = okOf(
      await fx.lifecycle.createServiceEnrollmentToken(OPERATOR, {
        kind: 'server',
        id: 'dmr-7',
        dnsNames: ['dmr-7.example.ee'],
        ipAddresses: ['10.1.2.3'],
      }),
    );
    const issued = okOf(
      await fx.lifecycle.enroll({ token: token.token, csr: await makeCsr(serverKeys, { uris: ['urn:dmr:server:dmr-7'] }) }),
    );
    const { status, body } = await renew(await makeCsr(serverKeys, { uris: ['urn:dmr:server:dmr-7'] }), {
      key: pem(serverKeys),
      cert: issued.certificate,
    });
    expect(status).toBe(201);
    const renewed = new x509.X509Certificate((body.value as { certificate: string }).certificate);
    expect(renewed.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((name) => name.toJSON())).toEqual([
      { type: 'dns', value: 'dmr-7.example.ee' },
      { type: 'ip', value: '10.1.2.3' },
      { type: 'url', value: 'urn:dmr:server:dmr-7' },
    ]);
  });
});

describe('operator issuing (rotation)', () => {
  it('issues for a new key pair on an operator request and points the registry at it', async () => {
    const newKeys = testKeyPair('rsa-2048');
    const issued = okOf(
      await fx.lifecycle.issue({ identity: { kind: 'agent', id: agentId }, actor: OPERATOR, csr: await makeCsr(newKeys, { cn: agentId }) }),
    );
    expect(spkiSha256(issued.certificate)).not.toBe(spkiSha256(current.cert));
    expect((await fx.store.agents.get(agentId))?.authenticationCertificate).toBe(issued.certificate);
    const change = okOf(await fx.store.changes.list({ action: 'certificate.issue' })).items[0];
    expect(change?.actor).toEqual(OPERATOR);
  });

  it('refuses an unknown agent', async () => {
    const outcome = await fx.lifecycle.issue({
      identity: { kind: 'agent', id: randomUUID() },
      actor: OPERATOR,
      csr: await makeCsr(testKeyPair(), { cn: agentId }),
    });
    expect(outcome).toMatchObject({ ok: false, code: 'DMR_CONTROL_NOT_FOUND', field: 'subjectId' });
  });
});
