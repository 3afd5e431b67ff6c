// The control plane's pure core: no I/O, no clock, no database (the clock and randomness are parameters).
// Storage helpers (canonical JSON, cursors, storable text, token hash) and the certificate rules (CSR key and
// subject, renewal, revocation reasons, the CRL schedule, the CA ring).

export {
  activeCa,
  CA_ID_PATTERN,
  CA_STATUSES,
  type CaRing,
  type CaStatus,
  parseCaRing,
  type RingEntry,
  type RingPurpose,
  ringProblem,
  serialiseCaRing,
  trustedCas,
  withCaActivated,
  withCaAdded,
  withCaRetired,
} from './ca-ring.js';
export { canonicalJson, canonicalSha256 } from './canonical-json.js';
export { compareCodePoints } from './code-point-order.js';
export {
  CRL_CLOCK_SKEW_MS,
  type CrlTimes,
  crlWindowAt,
  DEFAULT_CRL_CHECK_INTERVAL_MS,
  DEFAULT_CRL_REPUBLISH_BEFORE_MS,
  DEFAULT_CRL_VALIDITY_MS,
  isCrlDue,
} from './crl-schedule.js';
export { type CsrFacts, type CsrKeyFacts, checkCsrIdentity, checkCsrKey, MAX_RSA_BITS, MIN_RSA_BITS } from './csr-rules.js';
export {
  DEFAULT_ENROLLMENT_TOKEN_TTL_MS,
  ENROLLMENT_TOKEN_BYTES,
  enrollmentTokenExpiry,
  isWellFormedEnrollmentToken,
  newEnrollmentToken,
} from './enrollment-token.js';
export {
  type CertificateIdentity,
  DMR_URI_PREFIX,
  describeIdentity,
  IDENTITY_KINDS,
  type IdentityKind,
  identityUri,
  isIdentityId,
  isServerName,
  SERVER_NAME_PATTERN,
  SERVER_URI_PREFIX,
} from './identity.js';
export { type CursorKey, type CursorOutcome, decodeCursor, encodeCursor } from './list-cursor.js';
export { type CertOutcome, type CertRefusal, certRefusal } from './refusal.js';
export { checkRenewingCertificate, checkSameKey, type RenewalRefusalCode, type RenewingCertificate } from './renewal-rules.js';
export { API_REVOCATION_REASONS, type ApiRevocationReason, parseApiRevocationReason } from './revocation.js';
export { findUnstorableText, isStorableText } from './stored-text.js';
export { hashEnrollmentToken, isSha256Hex } from './token-hash.js';
