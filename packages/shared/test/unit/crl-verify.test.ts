// Issue 15, finding 5: the checks a server runs before a CRL comes into force. CAs and CRLs are made at run time.
import { webcrypto } from 'node:crypto';
import { type CrlSnapshot, crlHealth, judgeCrlSuccession, readCrl, x509 } from '@dmr/shared/pki';
import { beforeAll, describe, expect, it } from 'vitest';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
const NOW = new Date('2026-12-07T12:00:00Z');

interface TestCa {
  readonly pem: string;
  readonly name: string;
  readonly keys: webcrypto.CryptoKeyPair;
}

async function makeCa(name: string): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(NOW.getTime() - 365 * DAY_MS),
    notAfter: new Date(NOW.getTime() + 365 * DAY_MS),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { pem: certificate.toString('pem'), name, keys };
}

function derInteger(value: number): Uint8Array {
  return Uint8Array.from([0x02, 1, value]);
}

async function makeCrl(ca: TestCa, options: { number: number; thisUpdate: Date; nextUpdate: Date; issuer?: string }): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: options.issuer ?? ca.name,
    thisUpdate: options.thisUpdate,
    nextUpdate: options.nextUpdate,
    signingKey: ca.keys.privateKey as unknown as Parameters<typeof x509.X509CrlGenerator.create>[0]['signingKey'],
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.Extension('2.5.29.20', false, derInteger(options.number))],
    entries: [{ serialNumber: '0a1b2c', revocationDate: options.thisUpdate }],
  });
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}

const window = (fromDays: number, toDays: number) => ({
  thisUpdate: new Date(NOW.getTime() + fromDays * DAY_MS),
  nextUpdate: new Date(NOW.getTime() + toDays * DAY_MS),
});

describe('readCrl against the configured CA', () => {
  let ca: TestCa;
  let other: TestCa;
  let impostor: TestCa;
  beforeAll(async () => {
    [ca, other, impostor] = await Promise.all([makeCa('CN=DMR Agent CA'), makeCa('CN=Other CA'), makeCa('CN=DMR Agent CA')]);
  });

  it('accepts a CRL issued and signed by the CA, also when the CA file is a bundle', async () => {
    const pem = await makeCrl(ca, { number: 3, ...window(-1, 6) });
    const snapshot = await readCrl(pem, ca.pem);
    expect(snapshot).toMatchObject({ issuer: 'CN=DMR Agent CA', crlNumber: 3n });
    expect([...snapshot.revokedSerials]).toEqual(['0a1b2c']);
    expect((await readCrl(pem, `${other.pem}\n${ca.pem}`)).crlNumber).toBe(3n);
  });

  it('finds the issuer in a bundle concatenated without a newline between the files', async () => {
    const pem = await makeCrl(ca, { number: 3, ...window(-1, 6) });
    const glued = `${other.pem.trim()}${ca.pem.trim()}`;
    expect(glued).toContain('-----END CERTIFICATE----------BEGIN CERTIFICATE-----');
    expect((await readCrl(pem, glued)).crlNumber).toBe(3n);
  });

  it('refuses a CRL issued by another CA', async () => {
    const pem = await makeCrl(other, { number: 3, ...window(-1, 6) });
    await expect(readCrl(pem, ca.pem)).rejects.toMatchObject({ code: 'DMR_CA_CRL_INVALID', message: expect.stringContaining('Other CA') });
  });

  it('refuses a CRL that names the CA but was signed by another key (a forgery)', async () => {
    const pem = await makeCrl(impostor, { number: 9, ...window(-1, 6) });
    await expect(readCrl(pem, ca.pem)).rejects.toMatchObject({
      code: 'DMR_CA_CRL_INVALID',
      message: expect.stringContaining('signature does not verify'),
    });
  });

  it('refuses a CA file without a certificate', async () => {
    const pem = await makeCrl(ca, { number: 3, ...window(-1, 6) });
    await expect(readCrl(pem, 'not a certificate')).rejects.toMatchObject({ code: 'DMR_CA_CERT_INVALID' });
  });
});

describe('judgeCrlSuccession', () => {
  const snapshot = (crlNumber: bigint | undefined, fromDays: number, toDays: number): CrlSnapshot => ({
    issuer: 'CN=DMR Agent CA',
    crlNumber,
    revokedSerials: new Set(),
    ...window(fromDays, toDays),
  });

  it('takes a newer current CRL, and a first one', () => {
    expect(judgeCrlSuccession(snapshot(4n, -1, 6), snapshot(3n, -2, 5), NOW)).toEqual({ ok: true });
    expect(judgeCrlSuccession(snapshot(4n, -1, 6), undefined, NOW)).toEqual({ ok: true });
  });

  it('refuses an expired CRL', () => {
    expect(judgeCrlSuccession(snapshot(4n, -8, -1), snapshot(3n, -2, 5), NOW)).toMatchObject({ ok: false, code: 'DMR_CA_CRL_EXPIRED' });
    expect(judgeCrlSuccession(snapshot(4n, -8, 0), undefined, NOW)).toMatchObject({ ok: false, code: 'DMR_CA_CRL_EXPIRED' });
  });

  it('refuses a CRL that is not valid yet', () => {
    expect(judgeCrlSuccession(snapshot(4n, 1, 8), snapshot(3n, -2, 5), NOW)).toMatchObject({ ok: false, code: 'DMR_CA_CRL_NOT_YET_VALID' });
  });

  it('refuses a CRL older than the one in force: lower number, or earlier thisUpdate', () => {
    expect(judgeCrlSuccession(snapshot(2n, -1, 6), snapshot(3n, -2, 5), NOW)).toMatchObject({ ok: false, code: 'DMR_CA_CRL_STALE' });
    expect(judgeCrlSuccession(snapshot(undefined, -3, 6), snapshot(undefined, -2, 5), NOW)).toMatchObject({
      ok: false,
      code: 'DMR_CA_CRL_STALE',
    });
  });
});

describe('crlHealth', () => {
  const crl: CrlSnapshot = { issuer: 'CN=x', crlNumber: 1n, revokedSerials: new Set(), ...window(-1, 1) };

  it('is current, then expiring inside the warning window, then expired from nextUpdate on', () => {
    expect(crlHealth(crl, NOW, DAY_MS / 2)).toBe('current');
    expect(crlHealth(crl, NOW, DAY_MS)).toBe('expiring');
    expect(crlHealth(crl, new Date(NOW.getTime() + DAY_MS), DAY_MS)).toBe('expired');
  });

  it('is not-yet-valid before thisUpdate, and none without a CRL', () => {
    expect(crlHealth(crl, new Date(NOW.getTime() - 2 * DAY_MS), DAY_MS)).toBe('not-yet-valid');
    expect(crlHealth(undefined, NOW, DAY_MS)).toBe('none');
  });
});
