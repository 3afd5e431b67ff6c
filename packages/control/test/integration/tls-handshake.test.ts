import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentIdFromCertificate,
  type IssuedCertificate,
  initCa,
  isPeerRevoked,
  issueAgentCertificate,
  issueRabbitmqServerCertificate,
  issueRelayUserCertificate,
  issueServerCertificate,
  publishCrl,
  readCrl,
  revokeCertificates,
} from '../../src/index.js';
import { makeTempDir } from './helpers/temp-dir.js';
import { type ClientTls, type ServerTls, startProbeServer, tryConnect } from './helpers/tls-probe.js';

const DAY_MS = 86_400_000;

interface Pem {
  key: string;
  cert: string;
}

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let caPem: string;
let otherCaPem: string;
let server: Pem;
const agents: Record<'valid' | 'revoked' | 'expired' | 'foreign' | 'rsa', Pem> = {} as never;
let crlPem: string;

async function pemOf(issued: IssuedCertificate): Promise<Pem> {
  return { cert: issued.certificatePem, key: await readFile(issued.keyPath ?? '', 'utf8') };
}

beforeAll(async () => {
  temp = await makeTempDir('tls');
  const caDir = join(temp.path, 'ca');
  const out = join(temp.path, 'out');
  caPem = (await initCa({ dir: caDir, commonName: 'DMR Test CA' })).certificatePem;
  otherCaPem = (await initCa({ dir: join(temp.path, 'other-ca'), commonName: 'DMR Test CA' })).certificatePem;
  server = await pemOf(await issueServerCertificate(caDir, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, { outDir: out }));
  agents.valid = await pemOf(await issueAgentCertificate(caDir, 'agent-valid', { outDir: out }));
  agents.revoked = await pemOf(await issueAgentCertificate(caDir, 'agent-revoked', { outDir: out }));
  agents.rsa = await pemOf(await issueAgentCertificate(caDir, 'agent-rsa', { outDir: out, keyType: 'rsa-3072' }));
  const past = { notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) };
  agents.expired = await pemOf(await issueAgentCertificate(caDir, 'agent-expired', { outDir: out, validity: past }));
  // same CN as our CA, different key: only the signature tells them apart
  agents.foreign = await pemOf(
    await issueAgentCertificate(join(temp.path, 'other-ca'), 'agent-valid', { outDir: join(temp.path, 'other-out') }),
  );
  await revokeCertificates(caDir, { agentId: 'agent-revoked' }, 'keyCompromise');
  crlPem = (await publishCrl(caDir)).pem;
});

afterAll(async () => {
  await temp?.remove();
});

async function verdict(serverTls: Partial<ServerTls>, client: Pem | undefined, clientTls: Partial<ClientTls> = {}) {
  const probe = await startProbeServer({ key: server.key, cert: server.cert, ca: caPem, ...serverTls });
  try {
    const outcome = await tryConnect(probe.port, { ca: caPem, ...client, ...clientTls });
    return { ...outcome, seen: probe.seen };
  } finally {
    await probe.close();
  }
}

describe('mutual TLS with toolkit certificates', () => {
  it('lets a valid agent in, both sides verifying, and the server reads its agent id from the SAN URI', async () => {
    const result = await verdict({ crl: crlPem }, agents.valid);
    expect(result.accepted).toBe(true);
    expect(result.seen).toHaveLength(1);
    expect(result.seen[0]?.authorized).toBe(true);
    const peer = result.seen[0]?.peer;
    expect(peer && agentIdFromCertificate(peer)).toBe('agent-valid');
  });

  it('lets an agent with an RSA key in', async () => {
    expect((await verdict({ crl: crlPem }, agents.rsa)).accepted).toBe(true);
  });

  it('refuses a client without a certificate', async () => {
    const result = await verdict({}, undefined);
    expect(result.accepted).toBe(false);
    expect(result.seen).toEqual([]);
  });

  it('refuses a certificate from another CA (even with the same CA name)', async () => {
    expect((await verdict({}, agents.foreign)).accepted).toBe(false);
    const observed = await verdict({ rejectUnauthorized: false }, agents.foreign);
    expect(observed.seen[0]?.authorizationError).toMatch(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE|UNABLE_TO_GET_ISSUER_CERT/,
    );
  });

  it('refuses an expired certificate', async () => {
    expect((await verdict({}, agents.expired)).accepted).toBe(false);
    const observed = await verdict({ rejectUnauthorized: false }, agents.expired);
    expect(observed.seen[0]?.authorizationError).toBe('CERT_HAS_EXPIRED');
  });

  it('lets a revoked certificate in without the CRL: the CRL is what bites', async () => {
    expect((await verdict({}, agents.revoked)).accepted).toBe(true);
  });

  it('refuses a revoked certificate once the CRL is given, for reason CERT_REVOKED', async () => {
    expect((await verdict({ crl: crlPem }, agents.revoked)).accepted).toBe(false);
    const observed = await verdict({ rejectUnauthorized: false, crl: crlPem }, agents.revoked);
    expect(observed.seen[0]?.authorizationError).toBe('CERT_REVOKED');
  });

  it('gives a server what it needs to drop a live revoked connection: the CRL serial set matches the peer', async () => {
    const crl = await readCrl(crlPem, caPem);
    const revokedPeer = (await verdict({ rejectUnauthorized: false }, agents.revoked)).seen[0]?.peer;
    const validPeer = (await verdict({ rejectUnauthorized: false }, agents.valid)).seen[0]?.peer;
    expect(revokedPeer && isPeerRevoked(revokedPeer, crl)).toBe(true);
    expect(validPeer && isPeerRevoked(validPeer, crl)).toBe(false);
  });

  it('refuses every client, valid ones included, once the CRL is past nextUpdate: republish in time', async () => {
    const stale = await publishCrl(join(temp.path, 'ca'), {
      outPath: join(temp.path, 'stale.crl.pem'),
      now: new Date(Date.now() - 30 * DAY_MS),
    });
    expect((await verdict({ crl: stale.pem }, agents.valid)).accepted).toBe(false);
    const observed = await verdict({ rejectUnauthorized: false, crl: stale.pem }, agents.valid);
    expect(observed.seen[0]?.authorizationError).toBe('CRL_HAS_EXPIRED');
  });

  it('makes the client refuse a server whose certificate lacks the name it dialled', async () => {
    const result = await verdict({}, agents.valid, { servername: 'not-the-server.example' });
    expect(result.accepted).toBe(false);
    expect(result.error).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('makes the client refuse a server from another CA', async () => {
    const result = await verdict({}, agents.valid, { ca: otherCaPem });
    expect(result.accepted).toBe(false);
  });
});

describe('RabbitMQ certificates', () => {
  it('a relay-user client certificate (CN = user) from the broker CA passes a listener that trusts only the broker CA; an agent certificate does not', async () => {
    const brokerCaDir = join(temp.path, 'broker-ca');
    const brokerCaPem = (await initCa({ dir: brokerCaDir, commonName: 'DMR Broker CA', purpose: 'broker' })).certificatePem;
    const out = join(temp.path, 'rabbit');
    const rabbit = await pemOf(
      await issueRabbitmqServerCertificate(brokerCaDir, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, { outDir: out }),
    );
    const relay = await pemOf(await issueRelayUserCertificate(brokerCaDir, 'dmr-relay', { outDir: out }));
    const probe = await startProbeServer({ ...rabbit, ca: brokerCaPem });
    try {
      expect((await tryConnect(probe.port, { ca: brokerCaPem, ...agents.valid })).accepted).toBe(false);
      expect((await tryConnect(probe.port, { ca: brokerCaPem, ...relay })).accepted).toBe(true);
      expect(probe.seen.at(-1)?.peer?.subject).toBe('CN=dmr-relay');
    } finally {
      await probe.close();
    }
  });
});
