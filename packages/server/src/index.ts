export { buildServer, type DmrServer, type LifecycleState, type ServerDeps } from './build-server.js';
export {
  type BrokerEndpoint,
  brokerUrl,
  type ConfigFiles,
  checkConfiguredFiles,
  DEFAULT_POLICY_WASM_FILE,
  loadServerConfig,
  parseBrokerHosts,
  type ServerConfig,
} from './config/index.js';
export { decideDelivery, parseDeliveryAck, splitEventArguments } from './gateway/index.js';
export {
  createOpaSidecarEngine,
  createOpaWasmEngine,
  OPA_SIDECAR_DEFAULTS,
  OpaSidecarEngine,
  type OpaSidecarOptions,
  OpaWasmEngine,
  type OpaWasmOptions,
  type PolicyData,
  type PolicyEngine,
  type PolicyEngineName,
} from './policy/index.js';
export { diffRegistry, parseRegistry, partialListOf } from './registry/index.js';
export { buildFailureRecord, checkShape, INBOUND_SHAPE_LIMITS, MessageRouter, validateInbound } from './routing/index.js';
