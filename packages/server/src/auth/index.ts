export { normaliseSerial } from '@dmr/shared/pki';
export { type CertificateVerdict, judgeCertificate, type PeerIdentity } from './certificate-guard.js';
export { CertificateGuard, type CertificateGuardHooks, type CrlReadiness } from './crl-keeper.js';
export { type CrlMetrics, createCrlMetrics } from './crl-metrics.js';
export { authenticateHandshake, type HandshakeDeps, type HandshakeResult, type TokenPolicy } from './handshake-auth.js';
export { RateWindow } from './rate-window.js';
export {
  type EngineLike,
  judgeSessionRequest,
  peerIdentityOf,
  type SessionCertificateDeps,
  SessionCertificates,
} from './session-certificates.js';
export { type ClaimResult, DEFAULT_REPLAY_GUARD_CAPACITY, TokenReplayGuard } from './token-replay-guard.js';
