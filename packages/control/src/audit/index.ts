// The tamper-evident audit log (docs/audit.md): RFC 6962 Merkle core, entries, signed heads, verification, proofs
// and the appender the writer drives.

export {
  type AppendResult,
  AuditAppender,
  DEFAULT_HEAD_EVERY_EVENTS,
  DEFAULT_HEAD_EVERY_MS,
  type HeadSchedule,
  type IncomingEvent,
} from './appender.js';
export { type AuditEntry, encodeEntry, readEntryClaims } from './entry.js';
export {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  nodeHash,
  RootAccumulator,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export {
  type ConsistencyProofJson,
  type InclusionProofJson,
  proveConsistency,
  proveInclusion,
  type TreeHeadJson,
  treeHeadJson,
} from './proofs.js';
export {
  AUDIT_SIGNER_SAN,
  keyIdOf,
  parseCaBundle,
  type SignedTreeHead,
  signTreeHead,
  type TreeHeadSigner,
  treeHeadMessage,
  treeHeadProblem,
} from './tree-head.js';
export {
  type FindingKind,
  type StoredEntryRow,
  type VerifyFinding,
  type VerifyInput,
  type VerifyReport,
  verifyAuditLog,
} from './verify-log.js';
