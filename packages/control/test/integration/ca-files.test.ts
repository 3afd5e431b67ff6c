import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { x509 } from '../../src/ca/x509.js';
import {
  initCa,
  issueAgentCertificate,
  issueServerCertificate,
  parseCaState,
  publishCrl,
  readCrl,
  revokeCertificates,
} from '../../src/index.js';
import { makeTempDir } from './helpers/temp-dir.js';
import { ecKeyPair } from './helpers/web-keys.js';

const DAY_MS = 86_400_000;

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let caDir: string;
let outDir: string;

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const stateOf = async () => parseCaState(await readFile(join(caDir, 'ca-state.json'), 'utf8'));

beforeEach(async () => {
  temp = await makeTempDir('ca');
  caDir = join(temp.path, 'ca');
  outDir = join(temp.path, 'out');
});

afterEach(async () => {
  await temp.remove();
});

describe('initCa', () => {
  it('writes key 0600, certificate 0644, state 0600 in a 0700 directory', async () => {
    await initCa({ dir: caDir, commonName: 'DMR Root' });
    expect(await modeOf(caDir)).toBe(0o700);
    expect(await modeOf(join(caDir, 'ca.key.pem'))).toBe(0o600);
    expect(await modeOf(join(caDir, 'ca.cert.pem'))).toBe(0o644);
    expect(await modeOf(join(caDir, 'ca-state.json'))).toBe(0o600);
    expect((await readdir(caDir)).sort()).toEqual(['ca-state.json', 'ca.cert.pem', 'ca.key.pem']);
    expect(await stateOf()).toEqual({ version: 1, purpose: 'agents', crlNumber: 0, issued: [], revoked: [] });
  });

  it('makes a 10-year self-signed P-256 root with critical CA:true and keyCertSign + cRLSign', async () => {
    const issued = await initCa({ dir: caDir, commonName: 'DMR Root, "Tax" \\ #1' });
    const node = new X509Certificate(issued.certificatePem);
    expect(node.ca).toBe(true);
    expect(node.checkIssued(node)).toBe(true);
    expect(node.verify(node.publicKey)).toBe(true);
    expect(node.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const cert = new x509.X509Certificate(issued.certificatePem);
    // the CN arrives byte for byte: no DN-string unescaping on the way in
    expect(cert.subjectName.getField('CN')).toEqual(['DMR Root, "Tax" \\ #1']);
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    expect(basic).toMatchObject({ ca: true, critical: true });
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    expect(usage?.critical).toBe(true);
    expect(usage?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
    const days = (cert.notAfter.getTime() - Date.now()) / DAY_MS;
    expect(days).toBeGreaterThan(3649);
    expect(days).toBeLessThanOrEqual(3650);
  });

  it('refuses to replace an existing CA and leaves it untouched', async () => {
    await initCa({ dir: caDir, commonName: 'first' });
    const before = await readFile(join(caDir, 'ca.key.pem'), 'utf8');
    await expect(initCa({ dir: caDir, commonName: 'second' })).rejects.toMatchObject({ code: 'DMR_CA_FILE_EXISTS' });
    expect(await readFile(join(caDir, 'ca.key.pem'), 'utf8')).toBe(before);
  });

  it('makes an RSA-3072 root that signs with SHA-256', async () => {
    const issued = await initCa({ dir: caDir, commonName: 'RSA Root', keyType: 'rsa-3072' });
    expect(new X509Certificate(issued.certificatePem).publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const leaf = await issueServerCertificate(caDir, { dnsNames: ['dmr.example'] }, { outDir, keyType: 'rsa-3072' });
    const cert = new x509.X509Certificate(leaf.certificatePem);
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    );
    expect(new X509Certificate(leaf.certificatePem).verify(new X509Certificate(issued.certificatePem).publicKey)).toBe(true);
  });
});

describe('issuing', () => {
  beforeEach(async () => {
    await initCa({ dir: caDir, commonName: 'DMR Root' });
  });

  it('issues a server certificate: SANs, serverAuth, 397 days, SKI/AKI, recorded in the state', async () => {
    const issued = await issueServerCertificate(
      caDir,
      { dnsNames: ['dmr.example', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] },
      { outDir },
    );
    const node = new X509Certificate(issued.certificatePem);
    expect(node.subjectAltName).toBe('DNS:dmr.example, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(node.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(node.ca).toBe(false);
    const cert = new x509.X509Certificate(issued.certificatePem);
    const ca = new x509.X509Certificate(await readFile(join(caDir, 'ca.cert.pem'), 'utf8'));
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    expect(Math.round((cert.notAfter.getTime() - Date.now()) / DAY_MS)).toBe(397);
    expect(await modeOf(issued.keyPath ?? '')).toBe(0o600);
    expect(await modeOf(issued.certificatePath)).toBe(0o644);
    expect((await stateOf()).issued).toMatchObject([{ serial: issued.serial, kind: 'server', commonName: 'dmr.example' }]);
  });

  it('issues an agent certificate with CN = id, SAN URI and clientAuth', async () => {
    const issued = await issueAgentCertificate(caDir, 'police-bot', { outDir });
    const node = new X509Certificate(issued.certificatePem);
    expect(node.subject).toBe('CN=police-bot');
    expect(node.subjectAltName).toBe('URI:urn:dmr:agent:police-bot');
    expect(node.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(issued.certificatePath).toBe(join(outDir, 'agent-police-bot.cert.pem'));
    expect((await stateOf()).issued[0]).toMatchObject({ kind: 'agent', agentId: 'police-bot' });
  });

  it('signs an operator-supplied public key and writes no private key', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const issued = await issueAgentCertificate(caDir, 'a1', { outDir, publicKeyPem });
    expect(issued.keyPath).toBeUndefined();
    expect(await readdir(outDir)).toEqual(['agent-a1.cert.pem']);
    expect(new X509Certificate(issued.certificatePem).publicKey.equals(publicKey)).toBe(true);
  });

  it('signs the key of a CSR whose signature verifies, and refuses a tampered CSR', async () => {
    const keys = await ecKeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=ignored',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    const issued = await issueAgentCertificate(caDir, 'a2', { outDir, publicKeyPem: csr.toString('pem') });
    // the CA decides the subject: the CSR's requested name is ignored
    expect(new X509Certificate(issued.certificatePem).subject).toBe('CN=a2');
    const raw = new Uint8Array(csr.rawData);
    raw[raw.length - 5] = (raw[raw.length - 5] ?? 0) ^ 0xff;
    const tampered = x509.PemConverter.encode(raw, 'CERTIFICATE REQUEST');
    await expect(issueAgentCertificate(caDir, 'a3', { outDir, publicKeyPem: tampered })).rejects.toMatchObject({
      code: 'DMR_CA_INVALID_REQUEST',
    });
  });

  it('refuses weak or unsupported public keys', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(issueAgentCertificate(caDir, 'a1', { outDir, publicKeyPem: weak })).rejects.toMatchObject({
      code: 'DMR_CRYPTO_KEY_INVALID',
    });
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(issueAgentCertificate(caDir, 'a1', { outDir, publicKeyPem: ed })).rejects.toMatchObject({
      code: 'DMR_CRYPTO_KEY_INVALID',
    });
    expect((await stateOf()).issued).toEqual([]);
  });

  it('never overwrites issued files', async () => {
    await issueAgentCertificate(caDir, 'a1', { outDir });
    const key = await readFile(join(outDir, 'agent-a1.key.pem'), 'utf8');
    await expect(issueAgentCertificate(caDir, 'a1', { outDir })).rejects.toMatchObject({ code: 'DMR_CA_FILE_EXISTS' });
    expect(await readFile(join(outDir, 'agent-a1.key.pem'), 'utf8')).toBe(key);
    await issueAgentCertificate(caDir, 'a1', { outDir, name: 'agent-a1-2026' });
    expect((await stateOf()).issued).toHaveLength(2);
  });

  it('refuses a CA key readable by others, and a key that does not match the certificate', async () => {
    await chmod(join(caDir, 'ca.key.pem'), 0o644);
    await expect(issueAgentCertificate(caDir, 'a1', { outDir })).rejects.toMatchObject({ code: 'DMR_CA_KEY_EXPOSED' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(join(caDir, 'ca.key.pem'), other, { mode: 0o600 });
    await chmod(join(caDir, 'ca.key.pem'), 0o600);
    await expect(issueAgentCertificate(caDir, 'a1', { outDir })).rejects.toMatchObject({ code: 'DMR_CA_STATE_INVALID' });
  });

  it('refuses to work while another run holds the lock, and leaves that lock alone', async () => {
    await writeFile(join(caDir, 'ca.lock'), '12345\n');
    await expect(revokeCertificates(caDir, { agentId: 'a1' }, 'superseded')).rejects.toMatchObject({ code: 'DMR_CA_LOCKED' });
    expect(await readFile(join(caDir, 'ca.lock'), 'utf8')).toBe('12345\n');
  });

  it('reports a missing CA without creating anything', async () => {
    const missing = join(temp.path, 'missing');
    await expect(publishCrl(missing)).rejects.toMatchObject({ code: 'DMR_CA_NOT_FOUND' });
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('revocation and CRL', () => {
  beforeEach(async () => {
    await initCa({ dir: caDir, commonName: 'DMR Root' });
  });

  it('revokes every certificate of an agent, records time and reason, and publishes numbered CRLs', async () => {
    const first = await issueAgentCertificate(caDir, 'a1', { outDir });
    const second = await issueAgentCertificate(caDir, 'a1', { outDir, name: 'a1-new' });
    const other = await issueAgentCertificate(caDir, 'a2', { outDir });
    const at = new Date('2025-05-05T05:05:05.000Z');
    const revoked = await revokeCertificates(caDir, { agentId: 'a1' }, 'keyCompromise', at);
    expect(revoked.map((record) => record.serial).sort()).toEqual([first.serial, second.serial].sort());
    expect((await stateOf()).revoked).toContainEqual({ serial: first.serial, revokedAt: at.toISOString(), reason: 'keyCompromise' });

    const one = await publishCrl(caDir);
    const two = await publishCrl(caDir, { nextUpdateDays: 2 });
    expect([one.crlNumber, two.crlNumber]).toEqual([1, 2]);
    const file = await readFile(join(caDir, 'crl.pem'), 'utf8');
    expect(file).toMatch(/^-----BEGIN X509 CRL-----\n/);
    expect(await modeOf(join(caDir, 'crl.pem'))).toBe(0o644);
    const crl = await readCrl(file, await readFile(join(caDir, 'ca.cert.pem'), 'utf8'));
    expect(crl.crlNumber).toBe(2n);
    expect([...crl.revokedSerials].sort()).toEqual([first.serial, second.serial].sort());
    expect(crl.revokedSerials.has(other.serial)).toBe(false);
    expect(Math.round(((crl.nextUpdate?.getTime() ?? 0) - Date.now()) / DAY_MS)).toBe(2);
    const entry = new x509.X509Crl(file).findRevoked(first.serial);
    expect(entry?.reason).toBe(x509.X509CrlReason.keyCompromise);
    expect(entry?.revocationDate.toISOString()).toBe('2025-05-05T05:05:05.000Z');
  });

  it('writes the CRL where told and refuses to trust it against another CA', async () => {
    const target = join(temp.path, 'public', 'dmr.crl.pem');
    await expect(publishCrl(caDir, { outPath: target })).rejects.toMatchObject({ code: 'DMR_CA_IO_FAILED' });
    const path = join(temp.path, 'dmr.crl.pem');
    const published = await publishCrl(caDir, { outPath: path });
    expect(published.path).toBe(path);
    const other = await initCa({ dir: join(temp.path, 'other'), commonName: 'DMR Root' });
    await expect(readCrl(await readFile(path, 'utf8'), other.certificatePem)).rejects.toMatchObject({ code: 'DMR_CA_CRL_INVALID' });
    const unrelated = await initCa({ dir: join(temp.path, 'unrelated'), commonName: 'Another Root' });
    await expect(readCrl(published.pem, unrelated.certificatePem)).rejects.toMatchObject({ code: 'DMR_CA_CRL_INVALID' });
  });
});
