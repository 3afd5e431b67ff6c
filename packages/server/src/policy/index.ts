export { BuiltinPolicyEngine } from './builtin-engine.js';
export { DecisionCache, decisionCacheKey } from './decision-cache.js';
export { createPolicyEngine, ENGINE_BUILDERS, type EngineBuilder, type EngineSettings, PendingEngine } from './engine-factory.js';
export { readOpaDecision } from './opa-result.js';
export { createOpaSidecarEngine, OPA_SIDECAR_DEFAULTS, OpaSidecarEngine, type OpaSidecarOptions } from './opa-sidecar-engine.js';
export { createOpaWasmEngine, OpaWasmEngine, type OpaWasmOptions } from './opa-wasm-engine.js';
export type { PolicyData, PolicyEngine, PolicyEngineName } from './policy-engine.js';
export { buildPolicyInput, type DecidedMessage, type PartyAttributes } from './policy-input.js';
export { type PolicyMetrics, PolicyPoint, type PolicyPointDeps, type PolicyReadiness, type PolicyVerdict } from './policy-point.js';
export {
  controlPolicySource,
  MAX_POLICY_DOCUMENT_BYTES,
  type PolicyRead,
  type PolicySource,
  type SourceOptions,
  urlPolicySource,
} from './policy-source.js';
export { PolicySync, type PolicySyncResult } from './policy-sync.js';
