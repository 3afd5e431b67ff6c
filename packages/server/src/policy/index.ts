export { BuiltinPolicyEngine } from './builtin-engine.js';
export { createPolicyEngine, ENGINE_BUILDERS, type EngineBuilder, type EngineSettings, PendingEngine } from './engine-factory.js';
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
