export { normaliseSerial } from '@dmr/shared/pki';
export { type CertificateVerdict, judgeCertificate, type PeerIdentity } from './certificate-guard.js';
export { CertificateGuard, type CertificateGuardHooks, type CrlReadiness } from './crl-keeper.js';
export { type CrlMetrics, createCrlMetrics } from './crl-metrics.js';
export { authenticateHandshake, type HandshakeDeps, type HandshakeResult } from './handshake-auth.js';
export {
  type EngineLike,
  judgeSessionRequest,
  peerIdentityOf,
  type SessionCertificateDeps,
  SessionCertificates,
} from './session-certificates.js';
