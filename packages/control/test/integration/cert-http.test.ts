/**
 * The certificate routes of a real dmr-control over real HTTPS with mutual TLS: enrollment with a token (no client
 * certificate), renewal with the certificate being renewed, the role matrix of the certificate routes, revocation
 * followed by the CRL and by the caller guard, server and relay-user certificates, the CA change-over with the ring
 * as the admin API's client CAs, and no secret in any answer or log line.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCrl, x509 } from '@dmr/shared/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateRingCa, addCaToRing, issueAdminCertificate } from '../../src/ca/index.js';
import { makeCsr, type TestKeyPair, testKeyPair } from '../helpers/csr.js';
import { capturingLogger } from '../helpers/store-fixtures.js';
import { type Answer, type ClientCert, type ControlFixture, call, startControl } from './helpers/control-fixture.js';
import { makeTempDir } from './helpers/temp-dir.js';

const pemOf = (keys: TestKeyPair) => keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function jsonOf(answer: Answer): Record<string, unknown> {
  return answer.json as Record<string, unknown>;
}

describe('the certificate routes of a running dmr-control (one CA directory)', () => {
  let fixture: ControlFixture;
  let lines: string[];
  let admin: ClientCert;
  let operator: ClientCert;

  beforeAll(async () => {
    const captured = capturingLogger();
    lines = captured.lines;
    fixture = await startControl({}, { log: captured.log });
    admin = fixture.pki.clients.admin;
    operator = fixture.pki.clients.operator;
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  async function createAgent(): Promise<string> {
    const id = randomUUID();
    const created = await call(fixture, { method: 'POST', path: '/v1/agents', client: operator, body: { id, name: `Agent ${id}` } });
    expect(created.status).toBe(201);
    return id;
  }

  async function tokenFor(id: string): Promise<string> {
    const answer = await call(fixture, { method: 'POST', path: `/v1/agents/${id}/enrollment-tokens`, client: operator });
    expect(answer.status).toBe(201);
    expect(answer.headers['cache-control']).toBe('no-store');
    return String(jsonOf(answer).token);
  }

  async function enroll(id: string, keys = testKeyPair()): Promise<ClientCert & { serial: string }> {
    const answer = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token: await tokenFor(id), csr: await makeCsr(keys, { cn: id }) },
    });
    expect(answer.status).toBe(201);
    const body = jsonOf(answer);
    return { cert: String(body.certificate), key: pemOf(keys), serial: String(body.serial) };
  }

  it('enrolls an agent without a client certificate, then the agent renews with its own over mTLS, same key', async () => {
    const id = await createAgent();
    const keys = testKeyPair();
    const enrolled = await enroll(id, keys);
    expect(new x509.X509Certificate(enrolled.cert).subject).toBe(`CN=${id}`);
    const agent = await call(fixture, { path: `/v1/agents/${id}`, client: operator });
    expect(jsonOf(agent).authenticationCertificate).toBe(enrolled.cert);

    const renewed = await call(fixture, {
      method: 'POST',
      path: '/v1/renew',
      client: enrolled,
      body: { csr: await makeCsr(keys, { cn: id }) },
    });
    expect(renewed.status).toBe(201);
    const certificate = new x509.X509Certificate(String(jsonOf(renewed).certificate));
    expect(Buffer.from(certificate.publicKey.rawData).equals(keys.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(jsonOf(renewed).caCertificates).toBe(fixture.pki.caCertPem);

    const other = await call(fixture, {
      method: 'POST',
      path: '/v1/renew',
      client: enrolled,
      body: { csr: await makeCsr(testKeyPair(), { cn: id }) },
    });
    expect([other.status, jsonOf(other).code, jsonOf(other).field]).toEqual([409, 'DMR_CONTROL_RENEWAL_KEY_CHANGED', 'csr']);
  });

  it('answers refusals with their codes and fields: reused token, another agent, a refused key, a tampered body', async () => {
    const id = await createAgent();
    const token = await tokenFor(id);
    const other = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token, csr: await makeCsr(testKeyPair(), { cn: randomUUID() }) },
    });
    expect([other.status, jsonOf(other).code, jsonOf(other).field]).toEqual([403, 'DMR_CONTROL_CSR_SUBJECT_MISMATCH', 'csr']);
    const weak = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token, csr: await makeCsr(testKeyPair('rsa-1024'), { cn: id }) },
    });
    expect([weak.status, jsonOf(weak).code, jsonOf(weak).field]).toEqual([400, 'DMR_CONTROL_CSR_KEY_UNSUPPORTED', 'csr']);
    const good = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token, csr: await makeCsr(testKeyPair(), { cn: id }) },
    });
    expect(good.status).toBe(201);
    const reused = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token, csr: await makeCsr(testKeyPair(), { cn: id }) },
    });
    expect([reused.status, jsonOf(reused).code, jsonOf(reused).field]).toEqual([401, 'DMR_CONTROL_TOKEN_USED', 'token']);
    const unknown = await call(fixture, { method: 'POST', path: '/v1/enroll', body: { token: 'x'.repeat(43), csr: 'nope' } });
    expect([unknown.status, jsonOf(unknown).code]).toEqual([400, 'DMR_CONTROL_CSR_INVALID']);
    const extra = await call(fixture, { method: 'POST', path: '/v1/enroll', body: { token, csr: 'x', privateKey: 'y' } });
    expect([extra.status, jsonOf(extra).code]).toEqual([400, 'DMR_CONTROL_INVALID_INPUT']);
  });

  it('keeps to the role matrix', async () => {
    const id = await createAgent();
    const agent = await enroll(id);
    const cases: Array<[ClientCert | undefined, string, string, number]> = [
      [fixture.pki.clients.auditor, 'POST', `/v1/agents/${id}/enrollment-tokens`, 403],
      [operator, 'POST', '/v1/servers/dmr-9.example/enrollment-tokens', 403],
      [agent, 'GET', '/v1/certificates', 403],
      [undefined, 'POST', '/v1/renew', 401],
      [operator, 'POST', '/v1/renew', 403],
      [fixture.pki.clients.auditor, 'GET', '/v1/certificates', 200],
    ];
    for (const [client, method, path, status] of cases) {
      const body = method === 'POST' ? (path === '/v1/renew' ? { csr: 'x' } : {}) : undefined;
      const answer = await call(fixture, { method, path, client, body });
      expect(answer.status, `${method} ${path}`).toBe(status);
    }
    const issueServer = await call(fixture, {
      method: 'POST',
      path: '/v1/certificates',
      client: operator,
      body: { kind: 'server', subjectId: 'dmr-9.example', csr: await makeCsr(testKeyPair(), { cn: 'dmr-9.example' }) },
    });
    expect([issueServer.status, jsonOf(issueServer).code]).toEqual([403, 'DMR_CONTROL_ROLE_FORBIDDEN']);
  });

  it('revokes: the CRL lists it at once, the caller guard refuses the certificate, the agent leaves the CentOps view', async () => {
    const id = await createAgent();
    const enrolled = await enroll(id);
    const revoked = await call(fixture, {
      method: 'POST',
      path: `/v1/certificates/${enrolled.serial}/revocation`,
      client: operator,
      body: { reason: 'keyCompromise' },
    });
    expect(revoked.status).toBe(200);
    expect(jsonOf(revoked)).toMatchObject({ revoked: [{ serial: enrolled.serial, reason: 'keyCompromise' }], agentsCut: [id] });
    const crl = await call(fixture, { path: '/v1/crl' });
    expect(crl.headers['content-type']).toContain('application/x-pem-file');
    expect((await readCrl(crl.text, fixture.pki.caCertPem)).revokedSerials.has(enrolled.serial)).toBe(true);
    const renew = await call(fixture, { method: 'POST', path: '/v1/renew', client: enrolled, body: { csr: 'x' } });
    expect([renew.status, jsonOf(renew).code]).toEqual([401, 'DMR_CONTROL_CERTIFICATE_REQUIRED']);
    const centops = jsonOf(await call(fixture, { path: '/centops/configuration' }));
    expect((centops.response as Array<{ id: string }>).map((agent) => agent.id)).not.toContain(id);
    const again = await call(fixture, {
      method: 'POST',
      path: `/v1/certificates/${enrolled.serial}/revocation`,
      client: operator,
      body: { reason: 'keyCompromise' },
    });
    expect([again.status, jsonOf(again).code]).toEqual([409, 'DMR_CA_ALREADY_REVOKED']);
    const hold = await call(fixture, {
      method: 'POST',
      path: `/v1/certificates/${enrolled.serial}/revocation`,
      client: operator,
      body: { reason: 'certificateHold' },
    });
    expect([hold.status, jsonOf(hold).field]).toEqual([400, 'reason']);
  });

  it('lists certificates with their expiry, one with its PEM', async () => {
    const id = await createAgent();
    const enrolled = await enroll(id);
    const list = jsonOf(await call(fixture, { path: `/v1/certificates?subjectId=${id}`, client: operator }));
    expect(list.items).toEqual([
      expect.objectContaining({ serial: enrolled.serial, subjectKind: 'agent', caId: 'agents', revokedAt: null }),
    ]);
    expect((list.items as object[])[0]).not.toHaveProperty('certificate');
    const one = jsonOf(await call(fixture, { path: `/v1/certificates/${enrolled.serial.toUpperCase()}`, client: operator }));
    expect(one.certificate).toBe(enrolled.cert);
  });

  it('enrolls a server and the relay user with admin tokens; the server renews the relay user’s certificate', async () => {
    const serverKeys = testKeyPair();
    const serverToken = jsonOf(
      await call(fixture, {
        method: 'POST',
        path: '/v1/servers/dmr-2.example/enrollment-tokens',
        client: admin,
        body: { dnsNames: ['dmr-2.example'] },
      }),
    );
    const server = jsonOf(
      await call(fixture, {
        method: 'POST',
        path: '/v1/enroll',
        body: { token: serverToken.token, csr: await makeCsr(serverKeys, { uris: ['urn:dmr:server:dmr-2.example'] }) },
      }),
    );
    const relayKeys = testKeyPair();
    const relayToken = jsonOf(
      await call(fixture, {
        method: 'POST',
        path: '/v1/servers/dmr-2.example/enrollment-tokens',
        client: admin,
        body: { kind: 'relay-user' },
      }),
    );
    const relayAnswer = await call(fixture, {
      method: 'POST',
      path: '/v1/enroll',
      body: { token: relayToken.token, csr: await makeCsr(relayKeys, { cn: 'dmr-relay' }) },
    });
    // this fixture's CA directory is an agent CA: the relay user needs a broker CA in the ring
    expect([relayAnswer.status, jsonOf(relayAnswer).code]).toEqual([503, 'DMR_CONTROL_CA_UNAVAILABLE']);
    const asServer = { cert: String(server.certificate), key: pemOf(serverKeys) };
    const renewed = await call(fixture, {
      method: 'POST',
      path: '/v1/renew',
      client: asServer,
      body: { csr: await makeCsr(serverKeys, { uris: ['urn:dmr:server:dmr-2.example'] }) },
    });
    expect(renewed.status).toBe(201);
    const foreign = await call(fixture, {
      method: 'POST',
      path: '/v1/renew',
      client: asServer,
      body: { csr: await makeCsr(serverKeys, { cn: 'x' }), certificate: asServer.cert },
    });
    expect([foreign.status, jsonOf(foreign).code]).toEqual([401, 'DMR_CONTROL_CERTIFICATE_UNKNOWN']);
  });

  it('serves the CA bundle, and never a secret in an answer or a log line', async () => {
    const bundle = await call(fixture, { path: '/v1/ca-certificates' });
    expect(bundle.text).toBe(fixture.pki.caCertPem);
    const id = await createAgent();
    const keys = testKeyPair();
    const token = await tokenFor(id);
    const answers = [
      await call(fixture, { method: 'POST', path: '/v1/enroll', body: { token, csr: await makeCsr(keys, { cn: id }) } }),
      await call(fixture, { method: 'POST', path: '/v1/enroll', body: { token, csr: await makeCsr(keys, { cn: id }) } }),
    ].map((answer) => answer.text);
    const caKey = (await readFile(join(fixture.pki.caDir, 'ca.key.pem'), 'utf8')).split('\n').slice(1, 3).join('');
    const agentKey = keys.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    const logs = lines.join('');
    expect(logs).toContain('enrollment token issued');
    for (const secret of [token, caKey.slice(0, 40), agentKey.slice(0, 40), agentKey.slice(-40)]) {
      expect(answers.join('')).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});

describe('a CA ring as dmr-control’s client CAs: the change-over without a restart', () => {
  let fixture: ControlFixture;
  let ringDir: string;
  let removeRing: () => Promise<void>;
  let admin: ClientCert;

  beforeAll(async () => {
    const temp = await makeTempDir('ring');
    ringDir = join(temp.path, 'ring');
    removeRing = temp.remove;
    await addCaToRing(ringDir, { id: 'agents-1', purpose: 'agents', commonName: 'Ring Agents CA 1' });
    await addCaToRing(ringDir, { id: 'broker-1', purpose: 'broker', commonName: 'Ring Broker CA 1' });
    const issued = await issueAdminCertificate(join(ringDir, 'agents-1'), 'admin', 'ring.admin', { outDir: join(temp.path, 'admin') });
    admin = { cert: issued.certificatePem, key: await readFile(issued.keyPath as string, 'utf8') };
    fixture = await startControl({ DMR_CONTROL_CA_DIR: ringDir, DMR_TLS_CA_FILE: '', DMR_CONTROL_CRL_CHECK_INTERVAL_MS: '1000' });
  });

  afterAll(async () => {
    await fixture?.stop();
    await removeRing?.();
  });

  async function enrollAgent(): Promise<ClientCert & { keys: TestKeyPair; id: string }> {
    const id = randomUUID();
    expect((await call(fixture, { method: 'POST', path: '/v1/agents', client: admin, body: { id, name: id } })).status).toBe(201);
    const token = jsonOf(await call(fixture, { method: 'POST', path: `/v1/agents/${id}/enrollment-tokens`, client: admin })).token;
    const keys = testKeyPair();
    const answer = jsonOf(
      await call(fixture, { method: 'POST', path: '/v1/enroll', body: { token, csr: await makeCsr(keys, { cn: id }) } }),
    );
    return { cert: String(answer.certificate), key: pemOf(keys), keys, id };
  }

  it('trusts the incoming CA once published, signs with it once activated, and its agents renew at once', async () => {
    const early = await enrollAgent();
    const broker = await call(fixture, { path: '/v1/ca-certificates?purpose=broker' });
    expect(new x509.X509Certificate(broker.text).subject).toBe('CN=Ring Broker CA 1');

    await addCaToRing(ringDir, { id: 'agents-2', purpose: 'agents', commonName: 'Ring Agents CA 2' });
    await expect
      .poll(async () => (await call(fixture, { path: '/v1/ca-certificates' })).text.match(/BEGIN CERTIFICATE/g)?.length, {
        timeout: 10_000,
      })
      .toBe(2);
    await activateRingCa(ringDir, 'agents-2');
    await fixture.control.certificates()?.checkNow();
    const late = await enrollAgent();
    expect(new x509.X509Certificate(late.cert).issuer).toBe('CN=Ring Agents CA 2');
    // the agent of the new CA is a TLS client dmr-control now trusts: its renewal goes through
    const renewed = await call(fixture, {
      method: 'POST',
      path: '/v1/renew',
      client: late,
      body: { csr: await makeCsr(late.keys, { cn: late.id }) },
    });
    expect(renewed.status).toBe(201);
    // and the old CA's agent moves to the new CA by renewing
    const moved = await call(fixture, {
      method: 'POST',
      path: '/v1/renew',
      client: early,
      body: { csr: await makeCsr(early.keys, { cn: early.id }) },
    });
    expect(new x509.X509Certificate(String(jsonOf(moved).certificate)).issuer).toBe('CN=Ring Agents CA 2');
    const crls = (await call(fixture, { path: '/v1/crl' })).text.match(/BEGIN X509 CRL/g);
    expect(crls).toHaveLength(2);
  });

  it('issues the relay user from the broker CA, and a server renews it for the same key', async () => {
    const serverKeys = testKeyPair();
    const body = { dnsNames: ['dmr-3.example'] };
    const serverToken = jsonOf(
      await call(fixture, { method: 'POST', path: '/v1/servers/dmr-3.example/enrollment-tokens', client: admin, body }),
    ).token;
    const csr = await makeCsr(serverKeys, { uris: ['urn:dmr:server:dmr-3.example'] });
    const server = {
      cert: String(jsonOf(await call(fixture, { method: 'POST', path: '/v1/enroll', body: { token: serverToken, csr } })).certificate),
      key: pemOf(serverKeys),
    };
    const relayKeys = testKeyPair();
    const relayToken = jsonOf(
      await call(fixture, {
        method: 'POST',
        path: '/v1/servers/dmr-3.example/enrollment-tokens',
        client: admin,
        body: { kind: 'relay-user' },
      }),
    ).token;
    const relay = jsonOf(
      await call(fixture, {
        method: 'POST',
        path: '/v1/enroll',
        body: { token: relayToken, csr: await makeCsr(relayKeys, { cn: 'dmr-relay' }) },
      }),
    );
    expect(new x509.X509Certificate(String(relay.certificate)).issuer).toBe('CN=Ring Broker CA 1');
    expect(new x509.X509Certificate(String(relay.caCertificates)).subject).toBe('CN=Ring Broker CA 1');

    const renewCsr = await makeCsr(relayKeys, { cn: 'dmr-relay' });
    const renewed = await call(fixture, {
      method: 'POST',
      path: '/v1/renew',
      client: server,
      body: { csr: renewCsr, certificate: relay.certificate },
    });
    expect(renewed.status).toBe(201);
    expect(new x509.X509Certificate(String(jsonOf(renewed).certificate)).subject).toBe('CN=dmr-relay');
    const otherKey = await call(fixture, {
      method: 'POST',
      path: '/v1/renew',
      client: server,
      body: { csr: await makeCsr(testKeyPair(), { cn: 'dmr-relay' }), certificate: relay.certificate },
    });
    expect(jsonOf(otherKey).code).toBe('DMR_CONTROL_RENEWAL_KEY_CHANGED');
  });
});
