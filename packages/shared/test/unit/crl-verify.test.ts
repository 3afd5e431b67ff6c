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

const RSA_ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };

async function makeCa(name: string, algorithm: typeof ALGORITHM | typeof RSA_ALGORITHM = ALGORITHM): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: algorithm,
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
  return x509.PemConverter.encode((await makeCrlDer(ca, options)).rawData, 'X509 CRL');
}

async function makeCrlDer(
  ca: TestCa,
  options: { number?: number; thisUpdate: Date; nextUpdate: Date; issuer?: string },
): Promise<x509.X509Crl> {
  return x509.X509CrlGenerator.create({
    issuer: options.issuer ?? ca.name,
    thisUpdate: options.thisUpdate,
    nextUpdate: options.nextUpdate,
    signingKey: ca.keys.privateKey as unknown as Parameters<typeof x509.X509CrlGenerator.create>[0]['signingKey'],
    signingAlgorithm: ALGORITHM,
    extensions: options.number === undefined ? [] : [new x509.Extension('2.5.29.20', false, derInteger(options.number))],
    entries: [{ serialNumber: '0a1b2c', revocationDate: options.thisUpdate }],
  });
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

describe('readCrl: what it reads and the reason of each refusal', () => {
  let ca: TestCa;
  let other: TestCa;
  let impostor: TestCa;
  let rsaNamesake: TestCa;
  beforeAll(async () => {
    [ca, other, impostor, rsaNamesake] = await Promise.all([
      makeCa('CN=DMR Agent CA'),
      makeCa('CN=Other CA'),
      makeCa('CN=DMR Agent CA'),
      makeCa('CN=DMR Agent CA', RSA_ALGORITHM),
    ]);
  });

  it('reads a DER CRL, and one without a CRL number', async () => {
    const crl = await makeCrlDer(ca, window(-1, 6));
    const snapshot = await readCrl(new Uint8Array(crl.rawData), ca.pem);
    expect(snapshot.issuer).toBe('CN=DMR Agent CA');
    expect(snapshot.crlNumber).toBeUndefined();
    expect(snapshot.thisUpdate.getTime()).toBe(window(-1, 6).thisUpdate.getTime());
    expect(snapshot.nextUpdate?.getTime()).toBe(window(-1, 6).nextUpdate.getTime());
  });

  it('says the CRL cannot be parsed', async () => {
    await expect(readCrl('not a CRL')).rejects.toMatchObject({
      code: 'DMR_CA_CRL_INVALID',
      message: 'the CRL cannot be parsed',
      cause: expect.any(Error),
    });
  });

  it('names the issuer of a CRL from another CA, without trying its signature against the configured CA', async () => {
    const pem = await makeCrl(other, { number: 3, ...window(-1, 6) });
    await expect(readCrl(pem, ca.pem)).rejects.toMatchObject({
      code: 'DMR_CA_CRL_INVALID',
      message: 'the CRL was issued by "CN=Other CA", not by the configured CA',
    });
  });

  it('names the CA whose key a forged CRL does not verify with', async () => {
    const pem = await makeCrl(impostor, { number: 9, ...window(-1, 6) });
    await expect(readCrl(pem, ca.pem)).rejects.toMatchObject({
      code: 'DMR_CA_CRL_INVALID',
      message: 'the CRL signature does not verify with the key of CA "CN=DMR Agent CA"',
    });
  });

  it('refuses a CRL whose only namesake in the CA file has a key of another type', async () => {
    const pem = await makeCrl(impostor, { number: 9, ...window(-1, 6) });
    await expect(readCrl(pem, rsaNamesake.pem)).rejects.toMatchObject({
      code: 'DMR_CA_CRL_INVALID',
      message: 'the CRL signature does not verify with the key of CA "CN=DMR Agent CA"',
    });
  });

  it('tries every certificate of the CA file that bears the issuer name', async () => {
    const pem = await makeCrl(ca, { number: 3, ...window(-1, 6) });
    expect((await readCrl(pem, `${impostor.pem}\n${rsaNamesake.pem}\n${ca.pem}`)).crlNumber).toBe(3n);
  });

  it('skips PEM blocks of the CA file that are not certificates', async () => {
    const pem = await makeCrl(ca, { number: 3, ...window(-1, 6) });
    expect((await readCrl(pem, `${pem}\n${ca.pem}`)).crlNumber).toBe(3n);
  });

  it('says whether the CA file holds no certificate or one that does not parse', async () => {
    const pem = await makeCrl(ca, { number: 3, ...window(-1, 6) });
    await expect(readCrl(pem, 'not a certificate')).rejects.toMatchObject({
      code: 'DMR_CA_CERT_INVALID',
      message: 'the CA file for CRL checking holds no certificate',
    });
    await expect(readCrl(pem, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).rejects.toMatchObject({
      code: 'DMR_CA_CERT_INVALID',
      message: 'the CA certificate for CRL checking cannot be parsed',
      cause: expect.any(Error),
    });
  });
});

describe('judgeCrlSuccession: boundaries and reasons', () => {
  const at = (days: number) => new Date(NOW.getTime() + days * DAY_MS);
  const snapshot = (crlNumber: bigint | undefined, thisUpdate: Date, nextUpdate: Date | undefined): CrlSnapshot => ({
    issuer: 'CN=DMR Agent CA',
    crlNumber,
    revokedSerials: new Set(),
    thisUpdate,
    nextUpdate,
  });

  it('takes a CRL from the instant its thisUpdate is reached, and one without nextUpdate', () => {
    expect(judgeCrlSuccession(snapshot(4n, NOW, at(6)), undefined, NOW)).toEqual({ ok: true });
    expect(judgeCrlSuccession(snapshot(4n, at(-1), undefined), undefined, NOW)).toEqual({ ok: true });
  });

  it('takes the CRL in force again, and one with the same number but a later thisUpdate', () => {
    const inForce = snapshot(3n, at(-2), at(5));
    expect(judgeCrlSuccession(snapshot(3n, at(-2), at(5)), inForce, NOW)).toEqual({ ok: true });
    expect(judgeCrlSuccession(snapshot(3n, at(-1), at(6)), inForce, NOW)).toEqual({ ok: true });
  });

  it('compares numbers only when both CRLs have one, and thisUpdate always', () => {
    expect(judgeCrlSuccession(snapshot(undefined, at(-1), at(6)), snapshot(3n, at(-2), at(5)), NOW)).toEqual({ ok: true });
    expect(judgeCrlSuccession(snapshot(5n, at(-3), at(6)), snapshot(3n, at(-2), at(5)), NOW)).toMatchObject({
      ok: false,
      code: 'DMR_CA_CRL_STALE',
    });
  });

  it('gives the date in each refusal, and both CRLs in a stale one', () => {
    expect(judgeCrlSuccession(snapshot(4n, at(-8), at(-1)), undefined, NOW)).toEqual({
      ok: false,
      code: 'DMR_CA_CRL_EXPIRED',
      reason: 'the CRL expired at 2026-12-06T12:00:00.000Z',
    });
    expect(judgeCrlSuccession(snapshot(4n, at(1), at(8)), undefined, NOW)).toEqual({
      ok: false,
      code: 'DMR_CA_CRL_NOT_YET_VALID',
      reason: 'the CRL is valid only from 2026-12-08T12:00:00.000Z',
    });
    expect(judgeCrlSuccession(snapshot(2n, at(-1), at(6)), snapshot(3n, at(-2), at(5)), NOW)).toEqual({
      ok: false,
      code: 'DMR_CA_CRL_STALE',
      reason:
        'the CRL (number 2, thisUpdate 2026-12-06T12:00:00.000Z) is older than the one in force (number 3, thisUpdate 2026-12-05T12:00:00.000Z)',
    });
    expect(judgeCrlSuccession(snapshot(undefined, at(-3), at(6)), snapshot(undefined, at(-2), at(5)), NOW)).toMatchObject({
      reason:
        'the CRL (number none, thisUpdate 2026-12-04T12:00:00.000Z) is older than the one in force (number none, thisUpdate 2026-12-05T12:00:00.000Z)',
    });
  });
});

describe('crlHealth at the edges', () => {
  it('is current from the instant of thisUpdate, and without a nextUpdate', () => {
    const crl: CrlSnapshot = { issuer: 'CN=x', crlNumber: 1n, revokedSerials: new Set(), ...window(0, 1) };
    expect(crlHealth(crl, NOW, 0)).toBe('current');
    expect(crlHealth({ ...crl, nextUpdate: undefined }, NOW, DAY_MS)).toBe('current');
  });
});
