export {
  AgentRegistry,
  type ListChange,
  MIN_SYNC_GAP_MS,
  type RegistryEvents,
  type RegistryHooks,
  type RegistrySyncPacing,
  type SyncResult,
} from './agent-registry.js';
export { type ChangeRules, type ChangeVerdict, judgeRegistryChange } from './change-guard.js';
export { isNewerVersion, judgeConfigVersion, type VersionVerdict } from './config-version.js';
export { AgentListHistory, DEFAULT_LIST_HISTORY, type ListPlan, type ListVersion } from './list-history.js';
export {
  type AgentAttributes,
  diffRegistry,
  hasSameKey,
  internUnchanged,
  isEmptyDiff,
  NO_ATTRIBUTES,
  type ParsedRegistry,
  parseRegistry,
  parseRegistryDocument,
  partialListOf,
  type RegisteredAgent,
  type RegistryDiff,
  type RegistrySnapshot,
} from './registry-snapshot.js';
export type { RegistryFetchOptions } from './registry-source.js';
export { fetchRegistryDocument } from './registry-source.js';
