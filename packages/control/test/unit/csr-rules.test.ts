import { describe, expect, it } from 'vitest';
import { type CertificateIdentity, type CsrFacts, checkCsrIdentity, checkCsrKey } from '../../src/domain/index.js';

const AGENT = '0b7c4f0e-3a51-4f0e-9d55-7d1f2b0c1a11';
const OTHER = '9f1d6a2c-0e4b-4c5e-8f7a-2b3c4d5e6f70';
const agent: CertificateIdentity = { kind: 'agent', id: AGENT };
const server: CertificateIdentity = { kind: 'server', id: 'dmr-1' };
const relay: CertificateIdentity = { kind: 'relay-user', id: 'dmr-relay' };

function facts(names: Partial<Omit<CsrFacts, 'key'>>): CsrFacts {
  return { key: { type: 'ec', namedCurve: 'prime256v1' }, commonNames: [], uris: [], dnsNames: [], ipAddresses: [], ...names };
}

describe('checkCsrKey', () => {
  it.each([[{ type: 'ec', namedCurve: 'prime256v1' }], [{ type: 'rsa', rsaBits: 2048 }], [{ type: 'rsa', rsaBits: 8192 }]])(
    'accepts %o',
    (key) => {
      expect(checkCsrKey(key)).toBeUndefined();
    },
  );

  it.each([
    [{ type: 'rsa', rsaBits: 1024 }, 'an RSA key of 1024 bits'],
    [{ type: 'rsa', rsaBits: 16384 }, 'an RSA key of 16384 bits'],
    [{ type: 'rsa' }, 'an RSA key of 0 bits'],
    [{ type: 'ec', namedCurve: 'secp384r1' }, 'an EC key on curve secp384r1'],
    [{ type: 'ec' }, 'an EC key on curve unknown'],
    [{ type: 'ed25519' }, 'a key of type ed25519'],
    [{ type: 'rsa-pss', rsaBits: 2048 }, 'a key of type rsa-pss'],
  ])('refuses %o naming csr', (key, what) => {
    expect(checkCsrKey(key)).toEqual({
      ok: false,
      code: 'DMR_CONTROL_CSR_KEY_UNSUPPORTED',
      field: 'csr',
      message: `the CSR carries ${what}; use RSA (2048–8192 bits) or EC P-256`,
    });
  });
});

describe('checkCsrIdentity', () => {
  it.each([
    ['CN only', agent, facts({ commonNames: [AGENT] })],
    ['SAN URI only', agent, facts({ uris: [`urn:dmr:agent:${AGENT}`] })],
    [
      'CN and URI, plus a DNS name (ignored: the profile sets the names)',
      agent,
      facts({ commonNames: [AGENT], uris: [`urn:dmr:agent:${AGENT}`], dnsNames: ['x.ee'] }),
    ],
    ['a server by URI with its DNS name as CN', server, facts({ commonNames: ['dmr-1.example.ee'], uris: ['urn:dmr:server:dmr-1'] })],
    ['a server by CN', server, facts({ commonNames: ['dmr-1'] })],
    ['the relay user by CN', relay, facts({ commonNames: ['dmr-relay'] })],
    ['a non-DMR URI beside the own one', agent, facts({ uris: ['https://bot.example.ee', `urn:dmr:agent:${AGENT}`] })],
  ])('accepts %s', (_name, identity, csr) => {
    expect(checkCsrIdentity(csr, identity)).toBeUndefined();
  });

  it.each([
    ['another agent by CN', agent, facts({ commonNames: [OTHER] }), `its CN is "${OTHER}"`],
    ['another agent by URI', agent, facts({ commonNames: [AGENT], uris: [`urn:dmr:agent:${OTHER}`] }), `it names urn:dmr:agent:${OTHER}`],
    ['two CNs, one foreign', agent, facts({ commonNames: [AGENT, OTHER] }), `its CN is "${OTHER}"`],
    [
      'a server URI in an agent CSR',
      agent,
      facts({ commonNames: [AGENT], uris: ['urn:dmr:server:dmr-1'] }),
      'it names urn:dmr:server:dmr-1',
    ],
    ['a role URI', agent, facts({ uris: [`urn:dmr:agent:${AGENT}`, 'urn:dmr:role:admin:eve'] }), 'it names urn:dmr:role:admin:eve'],
    ['an upper-case DMR URI', agent, facts({ uris: [`URN:DMR:agent:${OTHER}`] }), `it names URN:DMR:agent:${OTHER}`],
    ['nobody', agent, facts({ dnsNames: ['x.ee'] }), 'it names nobody (no CN and no SAN URI of the requester)'],
    ['another server', server, facts({ uris: ['urn:dmr:server:dmr-2'] }), 'it names urn:dmr:server:dmr-2'],
    [
      'a server named only by a DNS CN',
      server,
      facts({ commonNames: ['dmr-1.example.ee'] }),
      'it names nobody (no CN and no SAN URI of the requester)',
    ],
    ['another relay user', relay, facts({ commonNames: ['guest'] }), 'its CN is "guest"'],
  ])('refuses %s', (_name, identity, csr, why) => {
    expect(checkCsrIdentity(csr, identity)).toEqual({
      ok: false,
      code: 'DMR_CONTROL_CSR_SUBJECT_MISMATCH',
      field: 'csr',
      message: `the CSR is not for ${identity.kind}:${identity.id}: ${why}`,
    });
  });
});
