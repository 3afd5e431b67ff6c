import { describe, expect, it } from 'vitest';
import { isCertificateRevoked, isCrlCurrent, readCrl } from '../../src/index.js';
import { FIXTURE_CA_PEM, FIXTURE_CRL_PEM, FIXTURE_REVOKED } from '../helpers/crl-fixture.js';

describe('readCrl', () => {
  it('returns the revoked serials, CRL number and window', async () => {
    const crl = await readCrl(FIXTURE_CRL_PEM, FIXTURE_CA_PEM);
    expect([...crl.revokedSerials].sort()).toEqual([...FIXTURE_REVOKED].sort());
    expect(crl.crlNumber).toBe(2n);
    expect(crl.issuer).toBe('CN=Fixture CA');
    expect(crl.nextUpdate?.getUTCFullYear()).toBe(2126);
  });

  it('accepts the PEM label OpenSSL writes and the one @peculiar/x509 writes', async () => {
    const relabelled = FIXTURE_CRL_PEM.replace(/X509 CRL/g, 'CRL');
    expect((await readCrl(relabelled)).revokedSerials.size).toBe(2);
  });

  it('refuses garbage with DMR_CA_CRL_INVALID', async () => {
    await expect(readCrl('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----')).rejects.toMatchObject({ code: 'DMR_CA_CRL_INVALID' });
  });

  it('refuses a CRL altered after signing', async () => {
    // one changed byte in the signed part (CRL number 2 → 3): the signature no longer verifies
    const tampered = FIXTURE_CRL_PEM.replace('AQIwHwYDVR0j', 'AQMwHwYDVR0j');
    await expect(readCrl(tampered, FIXTURE_CA_PEM)).rejects.toMatchObject({ code: 'DMR_CA_CRL_INVALID' });
  });
});

describe('isCertificateRevoked', () => {
  const revoked = new Set(FIXTURE_REVOKED);

  it('matches Node (uppercase), OpenSSL (colons) and canonical serial forms', () => {
    expect(isCertificateRevoked('FDEBF86FDE1EB8CD69218814E31E4AD7', revoked)).toBe(true);
    expect(isCertificateRevoked('1e:71:54:e9:93:d9:a3:d8:22:78:63:72:4c:76:ea:a3', revoked)).toBe(true);
    expect(isCertificateRevoked('00fdebf86fde1eb8cd69218814e31e4ad7', revoked)).toBe(true);
  });

  it('does not match other serials', () => {
    expect(isCertificateRevoked('fdebf86fde1eb8cd69218814e31e4ad8', revoked)).toBe(false);
  });

  it('takes a snapshot as well as a set', async () => {
    const crl = await readCrl(FIXTURE_CRL_PEM);
    expect(isCertificateRevoked(FIXTURE_REVOKED[0] ?? '', crl)).toBe(true);
  });
});

describe('isCrlCurrent', () => {
  const crl = {
    issuer: 'CN=x',
    thisUpdate: new Date('2025-01-01T00:00:00Z'),
    nextUpdate: new Date('2025-01-08T00:00:00Z'),
    crlNumber: 1n,
    revokedSerials: new Set<string>(),
  };

  it('is true inside [thisUpdate, nextUpdate)', () => {
    expect(isCrlCurrent(crl, new Date('2025-01-01T00:00:00Z'))).toBe(true);
    expect(isCrlCurrent(crl, new Date('2025-01-07T23:59:59Z'))).toBe(true);
  });

  it('is false before thisUpdate and from nextUpdate on', () => {
    expect(isCrlCurrent(crl, new Date('2024-12-31T23:59:59Z'))).toBe(false);
    expect(isCrlCurrent(crl, new Date('2025-01-08T00:00:00Z'))).toBe(false);
  });
});
