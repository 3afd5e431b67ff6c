export { type AesJwe, aesJwe, loadNativeAesJwe, nodeAesJwe } from './aes-jwe.js';
export {
  type AgentTokenOptions,
  createAgentToken,
  type TokenBinding,
  type TokenFacts,
  type VerifyTokenOptions,
  verifyAgentToken,
} from './agent-token.js';
export {
  AGENT_ID_PATTERN,
  AGENT_URI_PREFIX,
  type AltName,
  agentIdFromCertificate,
  agentIdFromSubjectAltName,
  isAgentId,
  parseSubjectAltName,
} from './certificate-identity.js';
export { decryptCompactJwe, encryptCompactJwe, type JweHeaderExtras } from './compact-jwe.js';
export { type JwsAlgorithm, signCompactJws, verifyCompactJws } from './compact-jws.js';
export {
  concatKdf,
  DEFAULT_KEY_AGREEMENT_CACHE_ENTRIES,
  EphemeralKeyReuse,
  type EphemeralKeyReuseOptions,
  type EphemeralPublicJwk,
  freshSenderKek,
  KeyAgreementCache,
  recipientKek,
  type SenderKek,
} from './ecdh-es-keys.js';
export { type EcdhP256, ecdhP256, loadNativeEcdhP256, nodeEcdhP256 } from './ecdh-p256.js';
export {
  bindClaims,
  checkClaims,
  type EnvelopeMetadata,
  type OpenedPayload,
  type OpenOptions,
  openEnvelope,
  openPayload,
  sealPayload,
} from './envelope.js';
export { type Es256, es256, loadNativeEs256, nodeEs256 } from './es256.js';
export { UnsupportedJoseFeature } from './jose-header.js';
export type { KeyAgreements, KeyManagementAlgorithm } from './key-management.js';
export {
  ALGORITHMS,
  CONTENT_ENCRYPTION,
  importPrivateKey,
  importPublicKey,
  type KeyKind,
  keyKindOf,
  keyWrapFor,
  normalisePem,
  type PrivateKeyRef,
  type PublicKeyRef,
  PublicKeyRing,
  publicPemOf,
} from './keys.js';
export { scalarBytes } from './p256-key-material.js';
export {
  MAX_PEER_CHAIN_INTERMEDIATES,
  type PeerKeyBasis,
  type PeerKeyVerdict,
  type PeerTrustPolicy,
  parseTrustAnchors,
  type TrustedPeerKey,
  type UntrustedPeerKey,
  verifyPeerKey,
} from './peer-key-trust.js';
export { RandomPool } from './random-pool.js';
