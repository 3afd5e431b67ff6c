export { AgentDirectory, type DirectoryOptions, type DirectoryUpdate, type PeerKeyLookup, type SkippedAgent } from './agent-directory.js';
export {
  AgentLink,
  type InboundHandler,
  type LinkDeps,
  type LinkObserver,
  type LinkState,
} from './agent-link.js';
export { connectFailureCode } from './connect-failure.js';
export { SWITCH_CONNECT_TIMEOUT_MS } from './send-gate.js';
export {
  interpretSendAck,
  RETRY_LATER_SERVER_CODES,
  type RetryLaterCode,
  retryAfterSecondsOf,
  type SendOutcome,
} from './send-outcome.js';
