export {
  CertificateGuard,
  type CertificateGuardHooks,
  type CertificateVerdict,
  judgeCertificate,
  normaliseSerial,
  type PeerIdentity,
} from './certificate-guard.js';
export { authenticateHandshake, type HandshakeDeps, type HandshakeResult, type TokenPolicy } from './handshake-auth.js';
export { type ClaimResult, DEFAULT_REPLAY_GUARD_CAPACITY, TokenReplayGuard } from './token-replay-guard.js';
