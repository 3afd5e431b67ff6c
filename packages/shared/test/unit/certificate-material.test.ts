// Issue 18: when a certificate, key and CA bundle form a usable identity (what a reload accepts).
import { inspectMaterial } from '@dmr/shared/certs';
import { TestCa, testKeyPair, windowDays } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';

describe('inspectMaterial', () => {
  let ca: TestCa;
  let pair: ReturnType<typeof testKeyPair>;
  let certificate: string;

  beforeAll(async () => {
    ca = await TestCa.create();
    pair = testKeyPair('ec');
    certificate = await ca.agentCertificate('a1', pair.publicKey, { window: windowDays(-1, 10) });
  });

  it('accepts a matching pair and reports serial, window, SAN and key fingerprint', () => {
    const result = inspectMaterial({ certificate, key: pair.privatePem, ca: ca.pem }, Date.now());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.subjectAltName).toBe('URI:urn:dmr:agent:a1');
    expect(result.value.notAfterMs - result.value.notBeforeMs).toBeGreaterThan(10 * 86_400_000);
    expect(result.value.serial).toMatch(/^[0-9A-F]+$/);
    expect(result.value.publicKeySha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['a key of another certificate', () => ({ certificate, key: testKeyPair('ec').privatePem }), 'key: does not belong to the certificate'],
    ['no certificate', () => ({ certificate: 'nothing', key: pair.privatePem }), 'certificate: holds no PEM certificate'],
    ['a broken key', () => ({ certificate, key: 'garbage' }), 'key: is not a valid PEM private key'],
    ['a CA bundle without certificates', () => ({ certificate, key: pair.privatePem, ca: 'x' }), 'ca: holds no PEM certificate'],
  ])('refuses %s, naming the part (never the key)', (_name, material, reason) => {
    const result = inspectMaterial(material(), Date.now());
    expect(result).toMatchObject({ ok: false, code: 'DMR_CERT_MATERIAL_INVALID' });
    if (result.ok) return;
    expect(`${result.errors[0]?.path}: ${result.errors[0]?.message}`).toBe(reason);
    expect(JSON.stringify(result)).not.toContain('PRIVATE KEY');
  });

  it('refuses a certificate outside its window', () => {
    const now = Date.now();
    expect(inspectMaterial({ certificate, key: pair.privatePem }, now + 11 * 86_400_000)).toMatchObject({ ok: false });
    expect(inspectMaterial({ certificate, key: pair.privatePem }, now - 2 * 86_400_000)).toMatchObject({ ok: false });
  });
});
