export {
  CertificateGuard,
  type CertificateGuardHooks,
  type CertificateVerdict,
  judgeCertificate,
  normaliseSerial,
} from './certificate-guard.js';
export { authenticateHandshake, type HandshakeDeps, type HandshakeResult } from './handshake-auth.js';
