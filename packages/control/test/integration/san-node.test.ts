import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { x509 } from '../../src/ca/x509.js';
import { agentIdFromCertificate, parseSubjectAltName } from '../../src/index.js';
import { ecKeyPair } from './helpers/web-keys.js';

// Self-signed certificates with hand-made SANs, to check the parser against what Node really prints.
async function certificateWithSans(names: x509.JsonGeneralNames): Promise<X509Certificate> {
  const keys = await ecKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=crafted',
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension(names)],
  });
  return new X509Certificate(cert.toString('pem'));
}

describe('agentIdFromCertificate on certificates Node parsed', () => {
  it('does not split a URI that contains ", URI:" into a second identity', async () => {
    const cert = await certificateWithSans([{ type: 'url', value: 'urn:dmr:agent:x, URI:urn:dmr:agent:admin' }]);
    // Node quotes the value and escapes its comma (CVE-2021-44532); a naive split(', ') on an unescaped form would see urn:dmr:agent:admin
    expect(cert.subjectAltName).toBe('URI:"urn:dmr:agent:x\\u002c URI:urn:dmr:agent:admin"');
    expect(parseSubjectAltName(cert.subjectAltName ?? '')).toEqual([{ type: 'URI', value: 'urn:dmr:agent:x, URI:urn:dmr:agent:admin' }]);
    expect(agentIdFromCertificate(cert)).toBeUndefined();
  });

  it('refuses a certificate naming two agents', async () => {
    const cert = await certificateWithSans([
      { type: 'url', value: 'urn:dmr:agent:a1' },
      { type: 'url', value: 'urn:dmr:agent:a2' },
    ]);
    expect(agentIdFromCertificate(cert)).toBeUndefined();
  });

  it('ignores DNS names that look like agent URIs and finds the real one among other SANs', async () => {
    const cert = await certificateWithSans([
      { type: 'dns', value: 'agent.example' },
      { type: 'email', value: 'ops@example.org' },
      { type: 'url', value: 'urn:dmr:agent:tax-bot' },
      { type: 'ip', value: '10.0.0.1' },
    ]);
    expect(agentIdFromCertificate(cert)).toBe('tax-bot');
  });

  it('finds nothing in a certificate without SANs', async () => {
    const keys = await ecKeyPair();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=urn:dmr:agent:a1',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    expect(agentIdFromCertificate(new X509Certificate(cert.toString('pem')))).toBeUndefined();
  });
});
