// Issue 18: a CRL bundle (dmr-control's GET /v1/crl, or DMR_TLS_CRL_FILE during a CA change-over) holds one CRL per
// trusted CA. Each CRL is verified against the CA it names and whose key signed it, and one bad block never hides the
// good ones. CAs and CRLs are made at run time.
import { type CrlBundleEntry, readCrlBundle, trustedCas } from '@dmr/shared/pki';
import { TestCa } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';

function verified(entry: CrlBundleEntry | undefined) {
  if (!entry?.ok) throw new Error(`expected a verified CRL, got ${JSON.stringify(entry)}`);
  return entry.crl;
}

describe('readCrlBundle', () => {
  let oldCa: TestCa;
  let newCa: TestCa;
  let impostor: TestCa;
  let cas: string;

  beforeAll(async () => {
    [oldCa, newCa, impostor] = await Promise.all([
      TestCa.create('DMR Agents CA'),
      TestCa.create('DMR Agents CA 2'),
      TestCa.create('DMR Agents CA'),
    ]);
    cas = `${oldCa.pem}${newCa.pem}`;
  });

  it('verifies each CRL against its own CA of a change-over bundle, in bundle order', async () => {
    const bundle = `${await newCa.crlPem({ number: 3, revokedSerials: ['0a0b'] })}${await oldCa.crlPem({ number: 9 })}`;
    const entries = await readCrlBundle(bundle, cas);
    expect(entries).toHaveLength(2);
    const [first, second] = [verified(entries[0]), verified(entries[1])];
    const [oldIdentity, newIdentity] = trustedCas(cas);
    expect(first.ca).toEqual(newIdentity);
    expect(first.snapshot).toMatchObject({ crlNumber: 3n, revokedSerials: new Set(['0a0b']) });
    expect(second.ca).toEqual(oldIdentity);
    expect(second.pem.startsWith('-----BEGIN X509 CRL-----\n')).toBe(true);
  });

  it('tells two CAs with the same name apart by key: a CRL signed by a look-alike CA is refused, the genuine one kept', async () => {
    const forged = await impostor.crlPem({ number: 99 });
    const genuine = await oldCa.crlPem({ number: 1 });
    const entries = await readCrlBundle(`${forged}${genuine}`, cas);
    expect(entries[0]).toMatchObject({ ok: false, index: 0, code: 'DMR_CA_CRL_INVALID' });
    expect(entries[0]?.ok ? '' : entries[0]?.reason).toContain('does not verify with the key of CA');
    expect(verified(entries[1]).ca).toEqual(trustedCas(cas)[0]);
    // the same CRL verifies when the look-alike is the one trusted
    expect(verified((await readCrlBundle(forged, impostor.pem))[0]).snapshot.crlNumber).toBe(99n);
  });

  it('refuses a CRL of a CA outside the trust bundle and a block that is not a CRL, naming them', async () => {
    const foreign = await (await TestCa.create('Someone Else')).crlPem();
    const broken = '-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n';
    const entries = await readCrlBundle(`${foreign}\n\n${broken}`, cas);
    expect(entries[0]).toMatchObject({ ok: false, code: 'DMR_CA_CRL_INVALID' });
    expect(entries[0]?.ok ? '' : entries[0]?.reason).toContain('not by the configured CA');
    expect(entries[1]).toMatchObject({ ok: false, index: 1, code: 'DMR_CA_CRL_INVALID' });
  });

  it('reads the `CRL` label, blocks glued together without a newline, and a single DER CRL', async () => {
    const pem = await oldCa.crlPem({ number: 5 });
    const relabelled = pem.replaceAll('X509 CRL', 'CRL').trimEnd();
    const glued = `${relabelled}${(await newCa.crlPem({ number: 6 })).trimEnd()}`;
    const entries = await readCrlBundle(glued, cas);
    expect(entries.map((entry) => verified(entry).snapshot.crlNumber)).toEqual([5n, 6n]);
    const der = Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64');
    expect(verified((await readCrlBundle(der, cas))[0]).snapshot.crlNumber).toBe(5n);
  });

  it('answers a bundle without any CRL with one refused entry, and throws only for a CA file without a certificate', async () => {
    expect(await readCrlBundle('nothing here', cas)).toEqual([
      { ok: false, index: 0, pem: '', code: 'DMR_CA_CRL_INVALID', reason: 'the CRL bundle holds no CRL' },
    ]);
    await expect(readCrlBundle(await oldCa.crlPem(), 'no certificate')).rejects.toMatchObject({ code: 'DMR_CA_CERT_INVALID' });
  });
});
