// The control plane's pure core: no I/O, no clock, no database (the clock and randomness are parameters): agent,
// policy and registry rules, callers and roles, storage helpers, and the certificate rules (CSR key and subject,
// renewal, revocation reasons, the CRL schedule, the CA ring).

export {
  type AgentFields,
  checkAgentFields,
  checkAgentId,
  GROUP_NAME_PATTERN,
  LABEL_KEY_PATTERN,
  LABEL_VALUE_PATTERN,
  MAX_GROUPS,
  MAX_LABELS,
} from './agent-rules.js';
export { authenticationKeyProblem, canonicalAuthenticationKey, keyStrengthProblem, MAX_KEY_PEM_LENGTH } from './authentication-key.js';
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
  authenticate,
  authorise,
  type Caller,
  type CallerJudgement,
  type CallerRefusal,
  CLIENT_AUTH_OID,
  type PresentedCertificate,
  type RefusedCaller,
  refuseRevoked,
} from './caller.js';
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
} from './identity.js';
export { type CursorKey, type CursorOutcome, decodeCursor, encodeCursor } from './list-cursor.js';
export { checkPolicyDocument, MAX_POLICY_BYTES, MAX_POLICY_DEPTH, MAX_POLICY_STRING_LENGTH } from './policy-rules.js';
export { type CertOutcome, type CertRefusal, certRefusal } from './refusal.js';
export {
  AGENT_FIELDS,
  type AgentChange,
  type AgentEntry,
  type CheckedRegistry,
  checkRegistryDocument,
  completeAgent,
  diffRegistry,
  type FullAgentEntry,
  type PolicyEntry,
  REGISTRY_DOCUMENT_FORMAT,
  type RegistryDiff,
  type RegistryDocument,
  sameJson,
} from './registry-document.js';
export { checkRenewingCertificate, checkSameKey, type RenewalRefusalCode, type RenewingCertificate } from './renewal-rules.js';
export { API_REVOCATION_REASONS, type ApiRevocationReason, parseApiRevocationReason } from './revocation.js';
export {
  ACCESS_ROLES,
  type Access,
  ADMIN_ROLES,
  type AdminRole,
  type CallerIdentity,
  identityFromSubjectAltName,
  identityFromUri,
  isAdminRole,
  isAllowed,
  PERSON_PATTERN,
  ROLE_URI_PREFIX,
  type Role,
  SERVER_URI_PREFIX,
} from './roles.js';
export { findUnstorableText, isStorableText, toStorableText } from './stored-text.js';
export {
  type Checked,
  checkText,
  type FieldRefusal,
  findTextProblem,
  joinPath,
  refuseField,
  type TextRules,
  textProblem,
} from './text-rules.js';
export { hashEnrollmentToken, isSha256Hex } from './token-hash.js';
