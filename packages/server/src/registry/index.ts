export { AgentRegistry, type ListChange, type RegistryEvents, type RegistryHooks, type SyncResult } from './agent-registry.js';
export { type ChangeRules, type ChangeVerdict, judgeRegistryChange } from './change-guard.js';
export { AgentListHistory, DEFAULT_LIST_HISTORY, type ListPlan, type ListVersion } from './list-history.js';
export {
  diffRegistry,
  internUnchanged,
  isEmptyDiff,
  parseRegistry,
  partialListOf,
  type RegisteredAgent,
  type RegistryDiff,
  type RegistrySnapshot,
} from './registry-snapshot.js';
export type { RegistryFetchOptions } from './registry-source.js';
export { fetchRegistryDocument } from './registry-source.js';
