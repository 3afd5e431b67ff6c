// `@dmr/shared/base`: the parts of @dmr/shared that load no third-party package (no jose, pino, typebox,
// @peculiar/x509, native addon). Command-line tools import from here so that starting one costs what it uses: the
// root entry loads everything (~0.7 s of CPU on the 2-core machine), this one a few milliseconds.
export { type BinArgsOutcome, type BinInfo, binArgsOutcome, handleBinArgs, readPackageVersion, versionLine } from './cli/bin-info.js';
export {
  AGENT_ID_PATTERN,
  AGENT_URI_PREFIX,
  type AltName,
  agentIdFromCertificate,
  agentIdFromSubjectAltName,
  isAgentId,
  parseSubjectAltName,
} from './crypto/certificate-identity.js';
export { type KeyKind, keyKindOf } from './crypto/keys.js';
export { DmrError, type DmrErrorCode, ERROR_CATALOG, type ErrorSpec, isDmrErrorCode, isTransientCode, toDmrError } from './errors.js';
export { formatPemBlock, type PemBlock, pemBlocks, pemCertificates, withFinalNewline } from './pki/pem-bundle.js';
export { normaliseSerial, parseDerInteger } from './pki/serial.js';
export { DEFAULT_RELAY_USER, RESERVED_BROKER_USER_NAMES, reservedAgentIdProblem } from './reserved-names.js';
export { agentDeadLetterQueueName, agentQueueName } from './topology.js';
