export {
  CertificateGuard,
  type CertificateGuardHooks,
  type CertificateVerdict,
  judgeCertificate,
  normaliseSerial,
  type PeerIdentity,
} from './certificate-guard.js';
export { authenticateHandshake, type HandshakeDeps, type HandshakeResult } from './handshake-auth.js';
export { RateWindow } from './rate-window.js';
