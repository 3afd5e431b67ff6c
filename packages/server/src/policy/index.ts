export { DecisionCache, decisionCacheKey } from './decision-cache.js';
export { readOpaDecision } from './opa-result.js';
export { createOpaSidecarEngine, OPA_SIDECAR_DEFAULTS, OpaSidecarEngine, type OpaSidecarOptions } from './opa-sidecar-engine.js';
export { createOpaWasmEngine, OpaWasmEngine, type OpaWasmOptions } from './opa-wasm-engine.js';
export type { PolicyData, PolicyEngine, PolicyEngineName } from './policy-engine.js';
