// Issue 18: the CRLs in force are kept per CA. A bundle is merged CA by CA, so one stale or forged CRL never holds back
// another CA's revocations; a CA the bundle leaves out keeps its last good CRL; a CA no longer trusted loses its CRL.
import { readCrlBundle, trustedCas } from '@dmr/shared/pki';
import { TestCa } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CrlSet, describeCrlHealth, mergeCrlBundle, revokedSerialsOf, worstCrl } from '../../src/auth/index.js';

const HOUR_MS = 3_600_000;
const NOW = new Date();
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR_MS);

describe('mergeCrlBundle', () => {
  let a: TestCa;
  let b: TestCa;
  let cas: string;
  let trusted: Set<string>;

  beforeAll(async () => {
    [a, b] = await Promise.all([TestCa.create('CA A'), TestCa.create('CA B')]);
    cas = `${a.pem}${b.pem}`;
    trusted = new Set(trustedCas(cas).map((ca) => ca.keyId));
  });

  async function merge(inForce: CrlSet, bundle: string, trust = trusted) {
    return mergeCrlBundle(inForce, await readCrlBundle(bundle, cas), trust, NOW);
  }

  it('takes one CRL per CA into force, and a later bundle CA by CA', async () => {
    const first = await merge(new Map(), `${await a.crlPem({ number: 1 })}${await b.crlPem({ number: 1, revokedSerials: ['0b'] })}`);
    expect(first.accepted.map((crl) => crl.ca.subject)).toEqual(['CN=CA A', 'CN=CA B']);
    expect(first.refused).toEqual([]);
    expect(revokedSerialsOf(first.next)).toEqual(new Set(['0b']));

    // A's new CRL revokes 0a; B's in the same bundle is older than B's in force: refused, B's last good one stays
    const second = await merge(first.next, `${await a.crlPem({ number: 2, revokedSerials: ['0a'] })}${await b.crlPem({ number: 0 })}`);
    expect(second.accepted.map((crl) => [crl.ca.subject, crl.snapshot.crlNumber])).toEqual([['CN=CA A', 2n]]);
    expect(second.refused).toMatchObject([{ code: 'DMR_CA_CRL_STALE', issuer: 'CN=CA B' }]);
    expect(revokedSerialsOf(second.next)).toEqual(new Set(['0a', '0b']));
  });

  it('changes nothing for the same bundle again, and keeps the CRL of a CA the bundle leaves out', async () => {
    const bundle = `${await a.crlPem({ number: 1 })}${await b.crlPem({ number: 1 })}`;
    const first = await merge(new Map(), bundle);
    const again = await merge(first.next, bundle);
    expect([again.accepted, again.refused, again.dropped]).toEqual([[], [], []]);
    const onlyA = await merge(first.next, await a.crlPem({ number: 2 }));
    expect(onlyA.next.size).toBe(2);
    expect([...onlyA.next.values()].map((crl) => crl.snapshot.crlNumber)).toEqual([2n, 1n]);
  });

  it('takes an expired CRL for a CA without one (OpenSSL refuses its agents either way) but never over a good one', async () => {
    const expired = await a.crlPem({ number: 5, thisUpdate: at(-48), nextUpdate: at(-24) });
    const first = await merge(new Map(), expired);
    expect(first.accepted).toHaveLength(1);
    expect(worstCrl(first.next, NOW, HOUR_MS).health).toBe('expired');
    const good = await merge(new Map(), await a.crlPem({ number: 4 }));
    expect((await merge(good.next, expired)).refused).toMatchObject([{ code: 'DMR_CA_CRL_EXPIRED' }]);
  });

  it('drops the CRL of a CA that left the trust bundle', async () => {
    const first = await merge(new Map(), `${await a.crlPem({ number: 1 })}${await b.crlPem({ number: 1 })}`);
    const onlyB = new Set(trustedCas(b.pem).map((ca) => ca.keyId));
    const change = await merge(first.next, '', onlyB);
    expect(change.dropped.map((crl) => crl.ca.subject)).toEqual(['CN=CA A']);
    expect([...change.next.values()].map((crl) => crl.ca.subject)).toEqual(['CN=CA B']);
  });

  it('reports the worst CRL of the set, naming its CA in the operator text', async () => {
    const set = (
      await merge(new Map(), `${await a.crlPem({ number: 1, nextUpdate: at(240) })}${await b.crlPem({ number: 1, nextUpdate: at(2) })}`)
    ).next;
    const worst = worstCrl(set, NOW, 24 * HOUR_MS);
    expect(worst.health).toBe('expiring');
    expect(worst.crl?.ca.subject).toBe('CN=CA B');
    const text = describeCrlHealth(worst.health, worst.crl, { variable: 'DMR_TLS_CRL_URL', readFailure: 'HTTP 503' });
    expect(text).toContain('CRL in force (CN=CA B) expires at');
    expect(text).toContain('DMR_TLS_CRL_URL must serve a newer CRL');
    expect(text).toContain('the last read of DMR_TLS_CRL_URL failed: HTTP 503');
    expect(worstCrl(new Map(), NOW, HOUR_MS)).toEqual({ health: 'none', crl: undefined });
  });
});
