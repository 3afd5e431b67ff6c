// The control plane's pure core for certificates: token hashing, CSR rules, renewal and revocation rules, the CRL
// schedule and the CA ring. No I/O; the clock and randomness are parameters.

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
  hashEnrollmentToken,
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
export { type CertOutcome, type CertRefusal, certRefusal } from './refusal.js';
export { checkRenewingCertificate, checkSameKey, type RenewalRefusalCode, type RenewingCertificate } from './renewal-rules.js';
export { API_REVOCATION_REASONS, type ApiRevocationReason, parseApiRevocationReason } from './revocation.js';
