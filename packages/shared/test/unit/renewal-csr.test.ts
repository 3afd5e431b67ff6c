// Issue 18: what an agent or server asks dmr-control for. The CSRs are parsed back and their signatures verified.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import {
  agentEnrollmentCsr,
  checkRenewed,
  generateKeys,
  inspectMaterial,
  keysOf,
  publicKeyFingerprint,
  renewalCsr,
} from '@dmr/shared/certs';
import { x509 } from '@dmr/shared/pki';
import { TestCa, testKeyPair, windowDays } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';

function parse(pem: string) {
  expect(pem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+-----END CERTIFICATE REQUEST-----\n?$/);
  return new x509.Pkcs10CertificateRequest(pem);
}

// by OID: vitest may load @peculiar/x509 twice (here and in the module under test), so class lookups miss
function sanOf(csr: x509.Pkcs10CertificateRequest) {
  return (csr.getExtension('2.5.29.17') as x509.SubjectAlternativeNameExtension | null)?.names.toJSON();
}

function spkiOf(csr: x509.Pkcs10CertificateRequest): string {
  return Buffer.from(csr.publicKey.rawData).toString('base64');
}

function spkiOfKey(key: ReturnType<typeof testKeyPair>['publicKey']): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

describe('enrollment CSR', () => {
  it.each(['ec', 'rsa'] as const)(
    'names the agent (CN, SAN URI urn:dmr:agent:<id>) and carries its %s key, self-signed validly',
    async (kind) => {
      const pair = testKeyPair(kind);
      const csr = parse(await agentEnrollmentCsr('agent-7f3a', pair));
      expect(csr.subject).toBe('CN=agent-7f3a');
      expect(sanOf(csr)).toEqual([{ type: 'url', value: 'urn:dmr:agent:agent-7f3a' }]);
      expect(spkiOf(csr)).toBe(spkiOfKey(pair.publicKey));
      expect(await csr.verify()).toBe(true);
      expect((csr.signatureAlgorithm as { name?: string }).name).toBe(kind === 'ec' ? 'ECDSA' : 'RSASSA-PKCS1-v1_5');
    },
  );

  it('refuses a key DMR does not use (P-384)', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    await expect(agentEnrollmentCsr('a1', pair)).rejects.toMatchObject({ code: 'DMR_CRYPTO_KEY_INVALID' });
  });

  it('generates EC P-256 and RSA-3072 keys locally', async () => {
    const ec = await generateKeys('ec-p256');
    expect(ec.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const rsa = await generateKeys('rsa-3072');
    expect(rsa.privateKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
  });
});

describe('renewal CSR and the renewed certificate', () => {
  let ca: TestCa;
  let pair: ReturnType<typeof testKeyPair>;
  let current: string;

  beforeAll(async () => {
    ca = await TestCa.create();
    pair = testKeyPair('ec');
    current = await ca.agentCertificate('agent-42', pair.publicKey);
  });

  it('copies subject and SAN of the current certificate and is signed by the same key', async () => {
    const csr = parse(await renewalCsr(current, keysOf(pair.privatePem)));
    const cert = new x509.X509Certificate(current);
    expect(csr.subject).toBe(cert.subject);
    expect(sanOf(csr)).toEqual([{ type: 'url', value: 'urn:dmr:agent:agent-42' }]);
    expect(spkiOf(csr)).toBe(spkiOfKey(pair.publicKey));
    expect(await csr.verify()).toBe(true);
  });

  it('keeps the CN and SAN URI of a server certificate (RSA key)', async () => {
    const serverPair = testKeyPair('rsa');
    const uris = ['urn:dmr:server:dmr-1'];
    const pem = await ca.agentCertificate('dmr-1.example.ee', serverPair.publicKey, { uris });
    const csr = parse(await renewalCsr(pem, keysOf(serverPair.privatePem)));
    expect(csr.subject).toBe('CN=dmr-1.example.ee');
    expect(sanOf(csr)).toEqual([{ type: 'url', value: 'urn:dmr:server:dmr-1' }]);
    expect(await csr.verify()).toBe(true);
  });

  it('accepts a renewed certificate with the same key and identity, refuses another key or a lost identity', async () => {
    const now = Date.now();
    const facts = inspectMaterial({ certificate: current, key: pair.privatePem }, now);
    if (!facts.ok) throw new Error('fixture');
    const renewed = await ca.agentCertificate('agent-42', pair.publicKey, { window: windowDays(0, 60) });
    const accepted = checkRenewed({ certificate: renewed, key: pair.privatePem }, facts.value, now + 1000);
    expect(accepted.serial).toBe(new X509Certificate(renewed).serialNumber);
    expect(accepted.publicKeySha256).toBe(publicKeyFingerprint(pair.publicKey));

    const other = testKeyPair('ec');
    const forOtherKey = await ca.agentCertificate('agent-42', other.publicKey);
    // the answer's certificate does not belong to our key at all
    expect(() => checkRenewed({ certificate: forOtherKey, key: pair.privatePem }, facts.value, now)).toThrow(/does not belong/);
    const otherName = await ca.agentCertificate('agent-43', pair.publicKey);
    expect(() => checkRenewed({ certificate: otherName, key: pair.privatePem }, facts.value, now)).toThrow(
      /lacks URI:urn:dmr:agent:agent-42/,
    );
  });
});
