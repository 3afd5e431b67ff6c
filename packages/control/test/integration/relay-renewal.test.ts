/**
 * The relay user's RabbitMQ certificate renewed by its server's CertificateKeeper (@dmr/shared/certs, the client
 * dmr-server runs with DMR_CONTROL_RENEW_RABBITMQ_CERT=true) against a real dmr-control: a CA ring with an agents CA
 * and a broker CA, the server instance and the relay user enrolled with tokens, then `POST /v1/renew {csr,
 * certificate}` over mutual TLS with the server's certificate. Before this file only the stand-in
 * test/support/fake-control.ts answered the keeper's relay renewals.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '@dmr/shared';
import { CertificateKeeper, type CertificateMaterial, type RenewalOutcome, readIdentity } from '@dmr/shared/certs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCaToRing, issueAdminCertificate } from '../../src/ca/index.js';
import { makeCsr, type TestKeyPair, testKeyPair } from '../helpers/csr.js';
import { type ClientCert, type ControlFixture, call, startControl } from './helpers/control-fixture.js';
import { makeTempDir } from './helpers/temp-dir.js';

const pemOf = (keys: TestKeyPair) => keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let fixture: ControlFixture;
let dir: string;
let removeDir: () => Promise<void>;
let admin: ClientCert;
const keepers: CertificateKeeper[] = [];

beforeAll(async () => {
  const temp = await makeTempDir('relay-renewal');
  dir = temp.path;
  removeDir = temp.remove;
  const ringDir = join(dir, 'ring');
  await addCaToRing(ringDir, { id: 'agents-1', purpose: 'agents', commonName: 'Relay Test Agents CA' });
  await addCaToRing(ringDir, { id: 'broker-1', purpose: 'broker', commonName: 'Relay Test Broker CA' });
  const issued = await issueAdminCertificate(join(ringDir, 'agents-1'), 'admin', 'relay.admin', { outDir: join(dir, 'admin') });
  admin = { cert: issued.certificatePem, key: await readFile(issued.keyPath as string, 'utf8') };
  fixture = await startControl({ DMR_CONTROL_CA_DIR: ringDir, DMR_TLS_CA_FILE: '' });
});

afterAll(async () => {
  for (const keeper of keepers) await keeper.stop();
  await fixture?.stop();
  await removeDir?.();
});

async function post(path: string, body: unknown, client?: ClientCert): Promise<Record<string, unknown>> {
  const answer = await call(fixture, { method: 'POST', path, body, client });
  expect(answer.status, answer.text).toBe(201);
  return answer.json as Record<string, unknown>;
}

/** Enrolls with a token the admin made through POST /v1/servers/{name}/enrollment-tokens. */
async function enrollService(body: Record<string, unknown>, keys: TestKeyPair, names: { cn?: string; uris?: string[] }) {
  const { token } = await post('/v1/servers/dmr-4.example/enrollment-tokens', body, admin);
  return post('/v1/enroll', { token, csr: await makeCsr(keys, names) });
}

describe("the server's CertificateKeeper renews the relay user's certificate with a real dmr-control", () => {
  it('gets a new certificate from the broker CA for the same key, writes it and the broker CA bundle, and applies it', async () => {
    const serverKeys = testKeyPair();
    const server = await enrollService({ dnsNames: ['dmr-4.example'] }, serverKeys, { uris: ['urn:dmr:server:dmr-4.example'] });
    const relayKeys = testKeyPair();
    const relay = await enrollService({ kind: 'relay-user' }, relayKeys, { cn: 'dmr-relay' });
    await mkdir(join(dir, 'rabbitmq'));
    const paths = {
      certFile: join(dir, 'rabbitmq/relay.cert.pem'),
      keyFile: join(dir, 'rabbitmq/relay.key.pem'),
      caFile: join(dir, 'rabbitmq/broker-ca.pem'),
    };
    await writeFile(paths.certFile, String(relay.certificate));
    await writeFile(paths.keyFile, pemOf(relayKeys), { mode: 0o600 });
    await writeFile(paths.caFile, String(relay.caCertificates));
    const controlCaFile = join(fixture.dir, 'ca/ca.cert.pem');

    let caller = { certificate: String(server.certificate), key: pemOf(serverKeys) };
    const outcomes: RenewalOutcome[] = [];
    const applied: CertificateMaterial[] = [];
    const keeper = new CertificateKeeper(
      {
        name: 'rabbitmq',
        paths,
        reloadIntervalMs: 60_000,
        renewal: { control: { url: `https://127.0.0.1:${fixture.port}`, caFile: controlCaFile }, fraction: 0.6667, caller: () => caller },
      },
      await readIdentity(paths),
      {
        apply: (material) => {
          applied.push(material);
        },
        observer: { expiry: () => undefined, renewal: (outcome) => outcomes.push(outcome), reload: () => undefined },
        log: createLogger({ name: 'relay-keeper', level: 'silent' }),
      },
    );
    keepers.push(keeper);
    keeper.start();
    const before = keeper.facts;
    await keeper.renewNow();

    expect(outcomes).toEqual(['success']);
    const after = keeper.facts;
    expect(after.serial).not.toBe(before.serial);
    expect(after.publicKeySha256).toBe(before.publicKeySha256);
    expect(after.subject).toBe('CN=dmr-relay');
    expect(applied).toHaveLength(1);
    const onDisk = new X509Certificate(await readFile(paths.certFile, 'utf8'));
    expect(onDisk.serialNumber).toBe(after.serial);
    expect(onDisk.issuer).toBe('CN=Relay Test Broker CA');
    expect(new X509Certificate(await readFile(paths.caFile, 'utf8')).subject).toBe('CN=Relay Test Broker CA');
    // dmr-control recorded both certificates of the relay user; the renewed one is the keeper's
    const listed = await call(fixture, { path: '/v1/certificates?subjectKind=relay-user', client: admin });
    const serials = (listed.json as { items: Array<{ serial: string; subjectId: string }> }).items;
    expect(serials.map((item) => item.subjectId)).toEqual(['dmr-relay', 'dmr-relay']);
    expect(serials.map((item) => item.serial.toUpperCase()).sort()).toEqual([before.serial, after.serial].sort());

    // an agent's certificate may not renew the relay user: refused by dmr-control, the certificate in force stays
    const agentId = randomUUID();
    await post('/v1/agents', { id: agentId, name: 'Agent' }, admin);
    const { token } = await post(`/v1/agents/${agentId}/enrollment-tokens`, undefined, admin);
    const agentKeys = testKeyPair();
    const agent = await post('/v1/enroll', { token, csr: await makeCsr(agentKeys, { cn: agentId }) });
    caller = { certificate: String(agent.certificate), key: pemOf(agentKeys) };
    await keeper.renewNow();
    expect(outcomes).toEqual(['success', 'refused']);
    expect(keeper.facts.serial).toBe(after.serial);
    expect(applied).toHaveLength(1);
  });
});
