// Enrollment with one-time tokens (POST /v1/enroll's logic) on a real SQLite store and real CA files.

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { x509 } from '@dmr/shared/pki';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCsr, tamperCsr, testKeyPair } from '../helpers/csr.js';
import { type LifecycleFixture, lifecycleFixture, OPERATOR, okOf } from '../helpers/lifecycle-fixture.js';

let fx: LifecycleFixture;
let agentId: string;

beforeEach(async () => {
  fx = await lifecycleFixture();
  agentId = randomUUID();
  await fx.createAgent(agentId);
});

afterEach(async () => {
  await fx.close();
});

async function agentCsr(id = agentId, keys = testKeyPair('ec-p256')): Promise<string> {
  return makeCsr(keys, { cn: id, uris: [`urn:dmr:agent:${id}`] });
}

async function newToken(id = agentId): Promise<string> {
  return okOf(await fx.lifecycle.createEnrollmentToken(OPERATOR, id)).token;
}

describe('enrollment tokens', () => {
  it('are 256-bit base64url, expire after the TTL, and are stored only as their SHA-256', async () => {
    const grant = okOf(await fx.lifecycle.createEnrollmentToken(OPERATOR, agentId));
    expect(grant.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(grant.expiresAt).toBe('2026-12-07T11:00:00.000Z');
    const page = okOf(await fx.store.enrollmentTokens.list({ agentId }));
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ agentId, createdBy: OPERATOR.subject, usedAt: null });
    expect(JSON.stringify(page.items)).not.toContain(grant.token);
    const database = await readFile(join(fx.dir, 'control.db'));
    expect(database.includes(Buffer.from(grant.token))).toBe(false);
  });

  it('are refused for an agent that does not exist, naming the field id', async () => {
    expect(await fx.lifecycle.createEnrollmentToken(OPERATOR, randomUUID())).toMatchObject({
      ok: false,
      code: 'DMR_CONTROL_NOT_FOUND',
      field: 'id',
    });
  });

  it('do not bump the configVersion', async () => {
    await newToken();
    expect(await fx.store.configVersion()).toBe(1);
  });
});

describe('enroll', () => {
  it('issues the agent certificate for the CSR key, records it, points the registry at it, bumps and announces', async () => {
    const keys = testKeyPair('ec-p256');
    const before = await fx.store.configVersion();
    const issued = okOf(await fx.lifecycle.enroll({ token: await newToken(), csr: await agentCsr(agentId, keys) }));

    const certificate = new x509.X509Certificate(issued.certificate);
    expect(certificate.subject).toBe(`CN=${agentId}`);
    expect(certificate.issuer).toBe('CN=DMR agents CA 1');
    expect(certificate.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((name) => name.toJSON())).toEqual([
      { type: 'url', value: `urn:dmr:agent:${agentId}` },
    ]);
    expect(certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(Buffer.from(certificate.publicKey.rawData).equals(keys.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(certificate.notAfter.getTime() - certificate.notBefore.getTime()).toBe(90 * 86_400_000 + 5 * 60_000);
    const caPem = await readFile(join(fx.caDir, 'agents-1', 'ca.cert.pem'), 'utf8');
    expect(issued.caCertificates).toBe(caPem);
    expect(await certificate.verify({ publicKey: new x509.X509Certificate(caPem) })).toBe(true);

    const record = await fx.store.certificates.get(issued.serial);
    expect(record).toMatchObject({ caId: 'agents-1', subjectKind: 'agent', subjectId: agentId, pem: issued.certificate, revokedAt: null });
    expect((await fx.store.agents.get(agentId))?.authenticationCertificate).toBe(issued.certificate);
    const configVersion = await fx.store.configVersion();
    expect(configVersion).toBe(before + 1);
    expect(fx.announcements).toEqual([{ configVersion, kinds: ['registry'] }]);
    const changes = okOf(await fx.store.changes.list({ outcome: 'applied' })).items.map((change) => [change.action, change.subjectId]);
    expect(changes).toContainEqual(['certificate.enroll', issued.serial]);
    expect(changes).toContainEqual(['agent.certificate', agentId]);
  });

  it('takes an RSA-2048 CSR and a CSR naming the agent by SAN URI only', async () => {
    const rsa = await makeCsr(testKeyPair('rsa-2048'), { cn: agentId });
    expect(await fx.lifecycle.enroll({ token: await newToken(), csr: rsa })).toMatchObject({ ok: true });
    const uriOnly = await makeCsr(testKeyPair('ec-p256'), { uris: [`urn:dmr:agent:${agentId}`] });
    expect(await fx.lifecycle.enroll({ token: await newToken(), csr: uriOnly })).toMatchObject({ ok: true });
  });

  it('refuses a used token, and records the refusal without bumping', async () => {
    const token = await newToken();
    okOf(await fx.lifecycle.enroll({ token, csr: await agentCsr() }));
    const version = await fx.store.configVersion();
    expect(await fx.lifecycle.enroll({ token, csr: await agentCsr() })).toMatchObject({
      ok: false,
      code: 'DMR_CONTROL_TOKEN_USED',
      field: 'token',
    });
    expect(await fx.store.configVersion()).toBe(version);
    const refused = okOf(await fx.store.changes.list({ outcome: 'refused' })).items;
    expect(refused.map((change) => [change.action, change.code])).toEqual([['certificate.token', 'DMR_CONTROL_TOKEN_USED']]);
  });

  it('lets exactly one of two concurrent enrollments with one token through', async () => {
    const token = await newToken();
    const outcomes = await Promise.all([
      fx.lifecycle.enroll({ token, csr: await agentCsr() }),
      fx.lifecycle.enroll({ token, csr: await agentCsr() }),
    ]);
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
    expect(outcomes.find((outcome) => !outcome.ok)).toMatchObject({ code: 'DMR_CONTROL_TOKEN_USED' });
    expect(okOf(await fx.store.certificates.list({ subjectId: agentId })).items).toHaveLength(1);
  });

  it('refuses an expired token', async () => {
    const token = await newToken();
    fx.clock.advanceMs(3_600_000);
    expect(await fx.lifecycle.enroll({ token, csr: await agentCsr() })).toMatchObject({
      ok: false,
      code: 'DMR_CONTROL_TOKEN_EXPIRED',
      field: 'token',
    });
    expect(okOf(await fx.store.certificates.list({})).items).toHaveLength(0);
  });

  it('answers an unknown and a malformed token alike, saying nothing about which tokens exist', async () => {
    const unknown = await fx.lifecycle.enroll({ token: 'A'.repeat(43), csr: await agentCsr() });
    const malformed = await fx.lifecycle.enroll({ token: 'not-a-token', csr: await agentCsr() });
    expect(unknown).toEqual({ ok: false, code: 'DMR_CONTROL_TOKEN_UNKNOWN', message: 'the enrollment token is not valid', field: 'token' });
    expect(malformed).toEqual(unknown);
  });

  it('refuses a CSR naming another agent with its own code, and leaves the token usable', async () => {
    const token = await newToken();
    const other = randomUUID();
    await fx.createAgent(other);
    const refused = await fx.lifecycle.enroll({ token, csr: await agentCsr(other) });
    expect(refused).toMatchObject({ ok: false, code: 'DMR_CONTROL_CSR_SUBJECT_MISMATCH', field: 'csr' });
    const sneaky = await makeCsr(testKeyPair(), { cn: agentId, uris: [`urn:dmr:agent:${other}`] });
    expect(await fx.lifecycle.enroll({ token, csr: sneaky })).toMatchObject({ ok: false, code: 'DMR_CONTROL_CSR_SUBJECT_MISMATCH' });
    expect((await fx.store.agents.get(other))?.authenticationCertificate).toBeNull();
    expect(await fx.lifecycle.enroll({ token, csr: await agentCsr() })).toMatchObject({ ok: true });
  });

  it.each(['rsa-1024', 'ec-p384', 'ed25519'] as const)('refuses a %s CSR naming csr, token unused', async (type) => {
    const token = await newToken();
    const csr = await makeCsr(testKeyPair(type), { cn: agentId });
    expect(await fx.lifecycle.enroll({ token, csr })).toMatchObject({ ok: false, code: 'DMR_CONTROL_CSR_KEY_UNSUPPORTED', field: 'csr' });
    expect(await fx.lifecycle.enroll({ token, csr: await agentCsr() })).toMatchObject({ ok: true });
  });

  it('refuses a CSR with a tampered signature', async () => {
    const token = await newToken();
    const csr = tamperCsr(await agentCsr(), agentId);
    expect(await fx.lifecycle.enroll({ token, csr })).toMatchObject({ ok: false, code: 'DMR_CONTROL_CSR_INVALID', field: 'csr' });
  });

  it('refuses a token of a deleted agent as unknown', async () => {
    const token = await newToken();
    await fx.store.transaction(async (tx) => okOf(await tx.agents.delete(agentId)));
    expect(await fx.lifecycle.enroll({ token, csr: await agentCsr() })).toMatchObject({ ok: false, code: 'DMR_CONTROL_TOKEN_UNKNOWN' });
  });
});

describe('server instances and the relay user', () => {
  it('enroll a server with the names the admin fixed, EKU serverAuth + clientAuth, from the agent CA', async () => {
    const grant = okOf(
      await fx.lifecycle.createServiceEnrollmentToken(OPERATOR, {
        kind: 'server',
        id: 'dmr-1',
        dnsNames: ['dmr-1.example.ee'],
        ipAddresses: ['10.0.0.5'],
      }),
    );
    // the CSR asks for another DNS name: the certificate carries the admin's names, not the CSR's
    const csr = await makeCsr(testKeyPair(), { cn: 'dmr-1.example.ee', uris: ['urn:dmr:server:dmr-1'], dnsNames: ['evil.example.ee'] });
    const issued = okOf(await fx.lifecycle.enroll({ token: grant.token, csr }));
    const certificate = new x509.X509Certificate(issued.certificate);
    expect(certificate.subject).toBe('CN=dmr-1.example.ee');
    expect(certificate.issuer).toBe('CN=DMR agents CA 1');
    expect(certificate.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((name) => name.toJSON())).toEqual([
      { type: 'dns', value: 'dmr-1.example.ee' },
      { type: 'ip', value: '10.0.0.5' },
      { type: 'url', value: 'urn:dmr:server:dmr-1' },
    ]);
    expect(certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(await fx.store.certificates.get(issued.serial)).toMatchObject({ subjectKind: 'server', subjectId: 'dmr-1', caId: 'agents-1' });
  });

  it('enroll the relay user from the broker CA', async () => {
    const grant = okOf(await fx.lifecycle.createServiceEnrollmentToken(OPERATOR, { kind: 'relay-user', id: 'dmr-relay' }));
    const issued = okOf(await fx.lifecycle.enroll({ token: grant.token, csr: await makeCsr(testKeyPair(), { cn: 'dmr-relay' }) }));
    const certificate = new x509.X509Certificate(issued.certificate);
    expect([certificate.subject, certificate.issuer]).toEqual(['CN=dmr-relay', 'CN=DMR broker CA 1']);
    expect(issued.caCertificates).toBe(await readFile(join(fx.caDir, 'broker-1', 'ca.cert.pem'), 'utf8'));
    expect(await fx.lifecycle.enroll({ token: grant.token, csr: await makeCsr(testKeyPair(), { cn: 'dmr-relay' }) })).toMatchObject({
      code: 'DMR_CONTROL_TOKEN_USED',
    });
  });

  it.each([
    [{ kind: 'server', id: 'dmr-1' }, 'dnsNames'],
    [{ kind: 'server', id: 'bad name', dnsNames: ['a.ee'] }, 'name'],
    [{ kind: 'server', id: 'dmr-1', dnsNames: ['-bad-.ee'] }, 'dnsNames'],
    [{ kind: 'server', id: 'dmr-1', ipAddresses: ['999.1.1.1'] }, 'ipAddresses'],
    [{ kind: 'relay-user', id: 'dmr relay' }, 'user'],
    [{ kind: 'relay-user', id: 'dmr-relay', dnsNames: ['a.ee'] }, 'dnsNames'],
  ] as const)('refuse a bad token request %o naming %s', async (request, field) => {
    expect(await fx.lifecycle.createServiceEnrollmentToken(OPERATOR, request)).toMatchObject({
      ok: false,
      code: 'DMR_CA_INVALID_REQUEST',
      field,
    });
  });

  it('refuse a server CSR naming another server', async () => {
    const grant = okOf(
      await fx.lifecycle.createServiceEnrollmentToken(OPERATOR, { kind: 'server', id: 'dmr-1', dnsNames: ['dmr-1.example.ee'] }),
    );
    const csr = await makeCsr(testKeyPair(), { uris: ['urn:dmr:server:dmr-2'] });
    expect(await fx.lifecycle.enroll({ token: grant.token, csr })).toMatchObject({ ok: false, code: 'DMR_CONTROL_CSR_SUBJECT_MISMATCH' });
  });
});

describe('secrets', () => {
  it('never appear in a response body or a log line: tokens, private keys, the CA key', async () => {
    const keys = testKeyPair('ec-p256');
    const grant = okOf(await fx.lifecycle.createEnrollmentToken(OPERATOR, agentId));
    const responses = [
      await fx.lifecycle.enroll({ token: 'A'.repeat(43), csr: await agentCsr() }),
      await fx.lifecycle.enroll({ token: grant.token, csr: await agentCsr(randomUUID()) }),
      await fx.lifecycle.enroll({ token: grant.token, csr: await agentCsr(agentId, keys) }),
      await fx.lifecycle.enroll({ token: grant.token, csr: await agentCsr(agentId, keys) }),
    ];
    const bodies = JSON.stringify(responses);
    const logs = fx.lines.join('');
    expect(logs).toContain('certificate issued');
    expect(logs).toContain('enrollment token issued');
    const caKey = (await readFile(join(fx.caDir, 'agents-1', 'ca.key.pem'), 'utf8')).split('\n')[1] ?? '';
    const agentKey = keys.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    for (const secret of [grant.token, caKey, agentKey.slice(0, 40), agentKey.slice(-40)]) {
      expect(secret.length).toBeGreaterThan(30);
      expect(bodies).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
