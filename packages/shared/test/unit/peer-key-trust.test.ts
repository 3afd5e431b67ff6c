import { webcrypto, X509Certificate } from 'node:crypto';
import { type PeerTrustPolicy, parseTrustAnchors, verifyPeerKey } from '@dmr/shared';
import { x509 } from '@dmr/shared/pki';
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
  // not parseTrustAnchors: a set-up that throws skips every test instead of failing one, which hid its mutants
  policy = { anchors: [new X509Certificate(ca.pem)], legacyAgentIds: new Set(), allowUnverified: false };
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

describe('verifyPeerKey: forged issuers, chain length, validity edges and reasons', () => {
  const validity = (pem: string) => {
    const cert = new X509Certificate(pem);
    return { fromMs: Date.parse(cert.validFrom), toMs: Date.parse(cert.validTo) };
  };

  /** A leaf that copies the CA's name and key identifier but is signed by another key: what a forger can make. */
  async function forgedLeaf(): Promise<string> {
    const forgerKeys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const subjectKey = await webcrypto.subtle.importKey(
      'spki',
      keys.publicKey.export({ type: 'spki', format: 'der' }),
      {
        name: 'ECDSA',
        namedCurve: 'P-256',
      },
      true,
      ['verify'],
    );
    const window = windowDays(-1, 10, NOW);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: '0a0b0c',
      subject: `CN=${ID}`,
      issuer: ca.certificate.subjectName,
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      publicKey: subjectKey,
      signingKey: forgerKeys.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `urn:dmr:agent:${ID}` }], false),
      ],
    });
    return leaf.toString('pem');
  }

  it("refuses a leaf that names the CA and its key identifier but is not signed by the CA's key", async () => {
    const pem = await forgedLeaf();
    expect(new X509Certificate(pem).checkIssued(new X509Certificate(ca.pem))).toBe(true);
    expect(refusal(pem)).toBe('certificate does not chain to the DMR CA (issuer CN=DMR CA)');
  });

  it('follows at most four intermediates', async () => {
    const chain: TestCa[] = [];
    let issuer = ca;
    for (let i = 1; i <= 5; i++) {
      issuer = await issuer.intermediate(`Intermediate ${i}`);
      chain.unshift(issuer);
    }
    const [fifth, ...upToFour] = chain;
    if (fifth === undefined) throw new Error('no chain');
    const four = (await upToFour[0]?.agentCertificate(ID, keys.publicKey)) + upToFour.map((intermediate) => intermediate.pem).join('');
    expect(verifyPeerKey(ID, four, policy, NOW)).toMatchObject({ ok: true, basis: 'certificate' });
    const five = (await fifth.agentCertificate(ID, keys.publicKey)) + chain.map((intermediate) => intermediate.pem).join('');
    expect(refusal(five)).toBe('certificate chain is longer than 4 intermediates');
  });

  it('trusts a leaf from the first to the last instant of its validity, and not a millisecond outside', async () => {
    const pem = await ca.agentCertificate(ID, keys.publicKey, { window: windowDays(-0.5, 10, NOW) });
    const { fromMs, toMs } = validity(pem);
    expect(verifyPeerKey(ID, pem, policy, fromMs).ok).toBe(true);
    expect(verifyPeerKey(ID, pem, policy, toMs).ok).toBe(true);
    const before = verifyPeerKey(ID, pem, policy, fromMs - 1);
    expect(before).toEqual({ ok: false, reason: `certificate CN=${ID} is not valid before ${new Date(fromMs).toISOString()}` });
    const after = verifyPeerKey(ID, pem, policy, toMs + 1);
    expect(after).toEqual({ ok: false, reason: `certificate CN=${ID} expired at ${new Date(toMs).toISOString()}` });
  });

  it('narrows the window of use to the latest start and earliest end along the chain', async () => {
    // starts well after the root (made in beforeAll, from a day before then) and ends well before it
    const intermediate = await ca.intermediate('Short intermediate', windowDays(-0.5, 5, NOW));
    const leafPem = await intermediate.agentCertificate(ID, keys.publicKey, { window: windowDays(-2, 10, NOW) });
    const verdict = verifyPeerKey(ID, leafPem + intermediate.pem, policy, NOW);
    const expected = validity(intermediate.pem);
    expect(verdict).toMatchObject({ ok: true, validFromMs: expected.fromMs, validToMs: expected.toMs });
  });

  it('ends the window of use where the anchor ends, and refuses an expired anchor by name', async () => {
    const shortRoot = await TestCa.create('Short root', windowDays(-1, 3, NOW));
    const rootPolicy = { ...policy, anchors: parseTrustAnchors(shortRoot.pem) };
    const pem = await shortRoot.agentCertificate(ID, keys.publicKey, { window: windowDays(-2, 10, NOW) });
    expect(verifyPeerKey(ID, pem, rootPolicy, NOW)).toMatchObject({ ok: true, validToMs: validity(shortRoot.pem).toMs });

    const oldRoot = await TestCa.create('Old root', windowDays(-30, -1, NOW));
    const oldPolicy = { ...policy, anchors: [new X509Certificate(oldRoot.pem)] };
    const leaf = await oldRoot.agentCertificate(ID, keys.publicKey, { window: windowDays(-2, 10, NOW) });
    expect(refusal(leaf, oldPolicy)).toBe(`certificate CN=Old root expired at ${new Date(validity(oldRoot.pem).toMs).toISOString()}`);
  });

  it('gives keys trusted without a certificate check an unbounded window', async () => {
    const open = { ...policy, allowUnverified: true };
    const foreign = await otherCa.agentCertificate('agent-x', keys.publicKey, { window: windowDays(-1, 2, NOW) });
    expect(verifyPeerKey(ID, foreign, open, NOW)).toMatchObject({ ok: true, validFromMs: -Infinity, validToMs: Infinity });
    const legacy = { ...policy, legacyAgentIds: new Set([ID]) };
    expect(verifyPeerKey(ID, keys.publicPem, legacy, NOW)).toMatchObject({ ok: true, validFromMs: -Infinity, validToMs: Infinity });
  });

  it('names what did not parse: the certificate or an intermediate', async () => {
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
    expect(refusal(broken)).toBe('certificate is not a valid PEM X.509 certificate');
    expect(refusal((await ca.agentCertificate(ID, keys.publicKey)) + broken)).toBe('intermediate is not a valid PEM X.509 certificate');
  });

  it('says which agent a certificate names, or that it names none', async () => {
    expect(refusal(await ca.agentCertificate('agent-a', keys.publicKey))).toBe('certificate names agent agent-a');
    expect(refusal(await ca.agentCertificate(ID, keys.publicKey, { uris: [] }))).toBe(
      `certificate does not name exactly one agent (SAN urn:dmr:agent:${ID})`,
    );
  });
});

describe('parseTrustAnchors reasons', () => {
  it('numbers the certificate that is not a CA or does not parse, counting from 1', async () => {
    const leaf = await ca.agentCertificate(ID, keys.publicKey);
    expect(() => parseTrustAnchors(`${ca.pem}${leaf}`)).toThrow(`certificate 2 (CN=${ID}) is not a CA certificate`);
    expect(() => parseTrustAnchors(`${leaf}${ca.pem}`)).toThrow(`certificate 1 (CN=${ID}) is not a CA certificate`);
    expect(() => parseTrustAnchors('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(
      expect.objectContaining({ message: 'certificate 1 is not a valid PEM X.509 certificate', cause: expect.any(Error) }),
    );
  });
});
