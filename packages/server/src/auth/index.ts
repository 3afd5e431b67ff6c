export { normaliseSerial } from '@dmr/shared/pki';
export { type CertificateVerdict, judgeCertificate, type PeerIdentity } from './certificate-guard.js';
export { type CrlOrigin, describeCrlHealth } from './crl-health-text.js';
export { CertificateGuard, type CertificateGuardHooks, type CertificateGuardOptions, type CrlReadiness } from './crl-keeper.js';
export { type CrlMetrics, createCrlMetrics } from './crl-metrics.js';
export { type CrlRefusal, type CrlSet, type CrlSetChange, mergeCrlBundle, revokedSerialsOf, worstCrl } from './crl-set.js';
export { type CrlFetchOptions, type CrlSource, fileCrlSource, urlCrlSource } from './crl-source.js';
export { authenticateHandshake, type HandshakeDeps, type HandshakeResult, type TokenPolicy } from './handshake-auth.js';
export { RateWindow } from './rate-window.js';
export {
  type EngineLike,
  judgeSessionRequest,
  peerIdentityOf,
  type SessionCertificateDeps,
  SessionCertificates,
  subjectText,
} from './session-certificates.js';
export { type ClaimResult, DEFAULT_REPLAY_GUARD_CAPACITY, TokenReplayGuard } from './token-replay-guard.js';
