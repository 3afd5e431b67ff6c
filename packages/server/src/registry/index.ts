export { AgentRegistry, type RegistryEvents, type RegistryHooks, type SyncResult } from './agent-registry.js';
export { type ChangeRules, type ChangeVerdict, judgeRegistryChange } from './change-guard.js';
export {
  diffRegistry,
  isEmptyDiff,
  parseRegistry,
  partialListOf,
  type RegisteredAgent,
  type RegistryDiff,
  type RegistrySnapshot,
} from './registry-snapshot.js';
export type { RegistryFetchOptions } from './registry-source.js';
export { fetchRegistryDocument } from './registry-source.js';
