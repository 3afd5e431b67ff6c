import { describe, expect, it } from 'vitest';
import { MAX_CSR_PEM_LENGTH, verifyCsr } from '../../src/ca/index.js';
import { makeCsr, tamperCsr, testKeyPair } from '../helpers/csr.js';

const AGENT = '0b7c4f0e-3a51-4f0e-9d55-7d1f2b0c1a11';
const AGENT_URI = `urn:dmr:agent:${AGENT}`;

describe('verifyCsr', () => {
  it('accepts an EC P-256 CSR and reads its names and key hash', async () => {
    const keys = testKeyPair('ec-p256');
    const outcome = await verifyCsr(await makeCsr(keys, { cn: AGENT, uris: [AGENT_URI], dnsNames: ['bot.example.ee'] }));
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.value.facts).toEqual({
      key: { type: 'ec', namedCurve: 'prime256v1' },
      commonNames: [AGENT],
      uris: [AGENT_URI],
      dnsNames: ['bot.example.ee'],
      ipAddresses: [],
    });
    expect(outcome.value.publicKeySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(outcome.value.publicKey.equals(keys.publicKey)).toBe(true);
  });

  it('accepts an RSA-2048 CSR', async () => {
    const outcome = await verifyCsr(await makeCsr(testKeyPair('rsa-2048'), { cn: AGENT }));
    expect(outcome).toMatchObject({ ok: true, value: { facts: { key: { type: 'rsa', rsaBits: 2048 } } } });
  });

  it('gives the same key hash for two CSRs of one key pair, another for another key', async () => {
    const keys = testKeyPair('ec-p256');
    const [a, b, c] = await Promise.all([
      verifyCsr(await makeCsr(keys, { cn: AGENT })),
      verifyCsr(await makeCsr(keys, { uris: [AGENT_URI] })),
      verifyCsr(await makeCsr(testKeyPair('ec-p256'), { cn: AGENT })),
    ]);
    if (!a.ok || !b.ok || !c.ok) throw new Error('expected three valid CSRs');
    expect(a.value.publicKeySha256).toBe(b.value.publicKeySha256);
    expect(c.value.publicKeySha256).not.toBe(a.value.publicKeySha256);
  });

  it.each([
    ['rsa-1024', /RSA key of 1024 bits/],
    ['ec-p384', /curve secp384r1/],
    ['ed25519', /type ed25519/],
  ] as const)('refuses a %s key naming the field csr', async (type, message) => {
    const outcome = await verifyCsr(await makeCsr(testKeyPair(type), { cn: AGENT }));
    expect(outcome).toMatchObject({
      ok: false,
      code: 'DMR_CONTROL_CSR_KEY_UNSUPPORTED',
      field: 'csr',
      message: expect.stringMatching(message),
    });
  });

  it('refuses a CSR whose signed part was altered', async () => {
    const pem = tamperCsr(await makeCsr(testKeyPair('ec-p256'), { cn: AGENT }), AGENT);
    const outcome = await verifyCsr(pem);
    expect(outcome).toMatchObject({
      ok: false,
      code: 'DMR_CONTROL_CSR_INVALID',
      field: 'csr',
      message: expect.stringMatching(/signature/),
    });
  });

  it.each([
    ['not PEM', 'hello'],
    ['a certificate label', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
    ['garbage inside the label', '-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAAA\n-----END CERTIFICATE REQUEST-----\n'],
    ['an oversized text', `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(MAX_CSR_PEM_LENGTH)}\n-----END CERTIFICATE REQUEST-----\n`],
  ])('refuses %s as DMR_CONTROL_CSR_INVALID', async (_name, pem) => {
    expect(await verifyCsr(pem)).toMatchObject({ ok: false, code: 'DMR_CONTROL_CSR_INVALID', field: 'csr' });
  });
});
