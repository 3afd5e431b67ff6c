export { createAgentToken, verifyAgentToken } from './agent-token.js';
export { checkClaims, type EnvelopeMetadata, type OpenOptions, openPayload, sealPayload } from './envelope.js';
export {
  ALGORITHMS,
  CONTENT_ENCRYPTION,
  importPrivateKey,
  importPublicKey,
  type KeyKind,
  keyKindOf,
  normalisePem,
  type PrivateKeyRef,
  type PublicKeyRef,
  PublicKeyRing,
  publicPemOf,
} from './keys.js';
