// `@dmr/shared/pki`: X.509 checks shared by the server (CRL in force) and the control plane (CRL it publishes).
// A subpath of its own so processes that never read a CRL (agents) do not load @peculiar/x509.
export {
  CRL_NUMBER_OID,
  type CrlHealth,
  type CrlSnapshot,
  type CrlSuccession,
  certificatesOf,
  crlHealth,
  type IssuedCrl,
  isCertificateRevoked,
  isCrlCurrent,
  isPeerRevoked,
  judgeCrlSuccession,
  readCrl,
  readCrlFromCas,
} from './crl.js';
export { type CaIdentity, type CrlBundleEntry, caIdentityOf, readCrlBundle, trustedCas, type VerifiedCrl } from './crl-bundle.js';
export { formatPemBlock, type PemBlock, pemBlocks, pemCertificates, withFinalNewline } from './pem-bundle.js';
export { normaliseSerial, parseDerInteger } from './serial.js';
export { x509 } from './x509.js';
