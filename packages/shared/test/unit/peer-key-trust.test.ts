import { type PeerTrustPolicy, parseTrustAnchors, verifyPeerKey } from '@dmr/shared';
import { selfSignedAgentCertificate, TestCa, testKeyPair, windowDays } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';

const ID = 'agent-b';
const NOW = Date.now();
const keys = testKeyPair('ec');
let ca: TestCa;
let otherCa: TestCa;
let policy: PeerTrustPolicy;

beforeAll(async () => {
  ca = await TestCa.create('DMR CA');
  otherCa = await TestCa.create('Some other CA');
  policy = { anchors: parseTrustAnchors(ca.pem), legacyAgentIds: new Set(), allowUnverified: false };
});

function refusal(material: string, withPolicy: PeerTrustPolicy = policy, agentId = ID): string {
  const verdict = verifyPeerKey(agentId, material, withPolicy, NOW);
  if (verdict.ok) throw new Error(`expected a refusal, got a ${verdict.basis} key`);
  return verdict.reason;
}

describe('verifyPeerKey', () => {
  it('trusts a certificate from the CA that names the agent, with the key of the certificate and its window', async () => {
    const pem = await ca.agentCertificate(ID, keys.publicKey, { window: windowDays(-1, 10, NOW) });
    const verdict = verifyPeerKey(ID, pem, policy, NOW);
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.basis).toBe('certificate');
    expect(verdict.key.kind).toBe('ec-p256');
    expect(verdict.key.key.equals(keys.publicKey)).toBe(true);
    expect(verdict.validToMs).toBeLessThanOrEqual(NOW + 10 * 86_400_000);
    expect(verdict.validToMs).toBeGreaterThan(NOW + 9 * 86_400_000);
  });

  it('trusts an RSA agent key in a certificate and a PEM with literal \\n', async () => {
    const rsa = testKeyPair('rsa');
    const pem = await ca.agentCertificate(ID, rsa.publicKey);
    const verdict = verifyPeerKey(ID, pem.replace(/\n/g, '\\n'), policy, NOW);
    expect(verdict.ok && verdict.key.kind).toBe('rsa');
  });

  it('refuses a certificate that names another agent', async () => {
    expect(refusal(await ca.agentCertificate('agent-a', keys.publicKey))).toMatch(/names agent agent-a/);
  });

  it('refuses a certificate without an agent SAN', async () => {
    expect(refusal(await ca.agentCertificate(ID, keys.publicKey, { uris: [] }))).toMatch(/does not name exactly one agent/);
  });

  it('refuses a certificate with two agent SANs, even when one of them is the right one', async () => {
    const pem = await ca.agentCertificate(ID, keys.publicKey, { uris: [`urn:dmr:agent:${ID}`, 'urn:dmr:agent:agent-c'] });
    expect(refusal(pem)).toMatch(/does not name exactly one agent/);
  });

  it('refuses an expired certificate', async () => {
    expect(refusal(await ca.agentCertificate(ID, keys.publicKey, { window: windowDays(-30, -1, NOW) }))).toMatch(/expired at/);
  });

  it('refuses a certificate that is not valid yet', async () => {
    expect(refusal(await ca.agentCertificate(ID, keys.publicKey, { window: windowDays(1, 30, NOW) }))).toMatch(/not valid before/);
  });

  it('refuses a certificate signed by another CA', async () => {
    expect(refusal(await otherCa.agentCertificate(ID, keys.publicKey))).toMatch(/does not chain to the DMR CA/);
  });

  it('refuses a self-signed certificate with the right SAN', async () => {
    expect(refusal(await selfSignedAgentCertificate(ID, keys.publicKey))).toMatch(/does not chain to the DMR CA/);
  });

  it('refuses a CA certificate offered as the agent certificate', async () => {
    expect(refusal(await ca.agentCertificate(ID, keys.publicKey, { isCa: true }))).toMatch(/is a CA certificate/);
  });

  it('refuses a certificate from another CA even when that CA is appended as an "intermediate"', async () => {
    const pem = (await otherCa.agentCertificate(ID, keys.publicKey)) + otherCa.pem;
    expect(refusal(pem)).toMatch(/does not chain to the DMR CA/);
  });

  it('refuses a bare public key from an agent that is not marked legacy', () => {
    expect(refusal(keys.publicPem)).toMatch(/bare public key/);
  });

  it('trusts a bare public key only from an agent marked legacy', () => {
    const legacy = { ...policy, legacyAgentIds: new Set([ID]) };
    const verdict = verifyPeerKey(ID, keys.publicPem, legacy, NOW);
    expect(verdict.ok && verdict.basis).toBe('legacy-key');
    expect(refusal(keys.publicPem, legacy, 'agent-c')).toMatch(/bare public key/);
  });

  it('still verifies a certificate of an agent marked legacy', async () => {
    const legacy = { ...policy, legacyAgentIds: new Set([ID]) };
    expect(refusal(await otherCa.agentCertificate(ID, keys.publicKey), legacy)).toMatch(/does not chain/);
  });

  it('trusts anything importable with allowUnverified, and says so', async () => {
    const open = { ...policy, allowUnverified: true };
    expect(verifyPeerKey(ID, keys.publicPem, open, NOW)).toMatchObject({ ok: true, basis: 'unverified' });
    const foreign = await otherCa.agentCertificate('agent-x', keys.publicKey);
    expect(verifyPeerKey(ID, foreign, open, NOW)).toMatchObject({ ok: true, basis: 'unverified' });
    expect(verifyPeerKey(ID, 'not a key', open, NOW).ok).toBe(false);
  });

  it('refuses garbage and truncated certificates without throwing', () => {
    expect(refusal('not a key')).toMatch(/bare public key/);
    expect(refusal('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toMatch(/not a valid PEM X.509 certificate/);
  });

  describe('through an intermediate', () => {
    it('trusts leaf + intermediate when the root is the anchor', async () => {
      const intermediate = await ca.intermediate();
      const pem = (await intermediate.agentCertificate(ID, keys.publicKey)) + intermediate.pem;
      expect(verifyPeerKey(ID, pem, policy, NOW)).toMatchObject({ ok: true, basis: 'certificate' });
    });

    it('refuses a leaf of the intermediate sent without the intermediate', async () => {
      const intermediate = await ca.intermediate();
      expect(refusal(await intermediate.agentCertificate(ID, keys.publicKey))).toMatch(/does not chain/);
    });

    it('refuses a chain through an expired intermediate', async () => {
      const intermediate = await ca.intermediate('Old intermediate', windowDays(-60, -1, NOW));
      const pem = (await intermediate.agentCertificate(ID, keys.publicKey, { window: windowDays(-2, 10, NOW) })) + intermediate.pem;
      expect(refusal(pem)).toMatch(/expired at/);
    });

    it('trusts any anchor of a bundle of several CAs', async () => {
      const bundle = { ...policy, anchors: parseTrustAnchors(otherCa.pem + ca.pem) };
      expect(verifyPeerKey(ID, await ca.agentCertificate(ID, keys.publicKey), bundle, NOW).ok).toBe(true);
      expect(verifyPeerKey(ID, await otherCa.agentCertificate(ID, keys.publicKey), bundle, NOW).ok).toBe(true);
    });
  });
});

describe('parseTrustAnchors', () => {
  it('reads every certificate of a bundle', () => {
    expect(parseTrustAnchors(`${ca.pem}\n${otherCa.pem}`)).toHaveLength(2);
  });

  it('refuses text without a certificate, and a leaf as an anchor', async () => {
    expect(() => parseTrustAnchors(keys.publicPem)).toThrow(/holds no PEM certificate/);
    const leaf = await ca.agentCertificate(ID, keys.publicKey);
    expect(() => parseTrustAnchors(`${ca.pem}${leaf}`)).toThrow(/is not a CA certificate/);
  });
});
