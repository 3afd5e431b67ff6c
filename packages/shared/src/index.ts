export { AGENT_LIST_VERSION_PATTERN, agentListVersion, isAgentListVersion } from './agent-list/list-version.js';
export { type BackoffSettings, backoffDelayMs } from './backoff.js';
export { type BinArgsOutcome, type BinInfo, binArgsOutcome, handleBinArgs, readPackageVersion, versionLine } from './cli/bin-info.js';
export { OldestFirst } from './collections/oldest-first.js';
export * from './config/index.js';
export {
  CONTROL_ANNOUNCEMENT_KINDS,
  CONTROL_EXCHANGE,
  type ControlAnnouncement,
  type ControlAnnouncementKind,
  parseControlAnnouncement,
} from './control-announcement.js';
export * from './crypto/index.js';
export { codeOfAckError, deliveryErrorOf, labelOfAckError, SEED003_ERROR_TYPES } from './delivery-errors.js';
export { DmrError, type DmrErrorCode, ERROR_CATALOG, type ErrorSpec, isDmrErrorCode, isTransientCode, toDmrError } from './errors.js';
export { codeLabel, LATENCY_BUCKETS_S, METRIC, UNKNOWN_CODE_LABEL } from './metrics.js';
export { coalesceWrites } from './net/coalesce-writes.js';
export { LISTEN_BACKLOG } from './net/listen-backlog.js';
export { type OpsAnswer, OpsListener, type OpsListenerDeps, type OpsListenerState } from './net/ops-listener.js';
export { matchOpsRequest, OPS_ROUTES, type OpsRequestMatch, type OpsRoute } from './net/ops-routes.js';
export { createLogger, fixedShapeLogger, type Logger, REDACT_PATHS } from './obs/logger.js';
export { guardProcess, type ProcessErrorKind, type ProcessEvents, type ProcessGuardDeps } from './obs/process-guard.js';
export { type FlushableDestination, turnBatchedDestination } from './obs/turn-batched-destination.js';
export { formatPemBlock, type PemBlock, pemBlocks, pemCertificates, withFinalNewline } from './pki/pem-bundle.js';
export * from './protocol.js';
export { DEFAULT_RELAY_USER, RESERVED_BROKER_USER_NAMES, reservedAgentIdProblem } from './reserved-names.js';
export { accept, describeErrors, type FieldError, type Refusal, type Result, refuse } from './result.js';
export * from './schemas/index.js';
export * from './topology.js';
