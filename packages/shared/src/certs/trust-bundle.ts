// The trust-anchor change-over as the client sees it (issue 18): dmr-control's CA bundle compared with the one in
// force, and whether the certificate in force is from the CA that signs now. Pure (no I/O).
import { X509Certificate } from 'node:crypto';
import { pemCertificates } from '../pki/pem-bundle.js';
import type { CertificateFacts } from './certificate-material.js';
import type { CaBundle } from './control-client.js';

/** Whether two PEM bundles hold the same certificates in the same order (formatting aside). */
export function isSameBundle(a: string, b: string | undefined): boolean {
  return pemCertificates(a).join('') === pemCertificates(b ?? '').join('');
}

/** Whether a CA of `bundlePem` issued `leaf` (subject/issuer and key identifiers, as OpenSSL's X509_check_issued). */
export function hasIssuerIn(leaf: X509Certificate, bundlePem: string): boolean {
  return pemCertificates(bundlePem).some((pem) => leaf.checkIssued(new X509Certificate(pem)));
}

/** True when dmr-control names its signing CA, has it in the bundle, and it is not the issuer of the certificate in force. */
export function isFromOtherCa(facts: CertificateFacts, bundle: CaBundle): boolean {
  if (bundle.activeCaSha256 === undefined) return false;
  const active = pemCertificates(bundle.pem)
    .map((pem) => new X509Certificate(pem))
    .find((ca) => ca.fingerprint256 === bundle.activeCaSha256);
  if (active === undefined) return false;
  return !(facts.leaf.checkIssued(active) && facts.leaf.verify(active.publicKey));
}
