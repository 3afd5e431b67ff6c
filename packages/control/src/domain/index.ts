// The control plane's pure core: no I/O, no clock, no database.

export {
  type AgentFields,
  checkAgentFields,
  checkAgentId,
  GROUP_NAME_PATTERN,
  LABEL_KEY_PATTERN,
  MAX_GROUPS,
  MAX_LABELS,
} from './agent-rules.js';
export { authenticationKeyProblem, canonicalAuthenticationKey, keyStrengthProblem, MAX_KEY_PEM_LENGTH } from './authentication-key.js';
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
export { type CursorKey, type CursorOutcome, decodeCursor, encodeCursor } from './list-cursor.js';
export { checkPolicyDocument, MAX_POLICY_BYTES, MAX_POLICY_DEPTH, MAX_POLICY_STRING_LENGTH } from './policy-rules.js';
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
