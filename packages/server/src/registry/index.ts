export { AgentRegistry, type RegistryEvents, type RegistryHooks, type SyncResult } from './agent-registry.js';
export {
  diffRegistry,
  isEmptyDiff,
  parseRegistry,
  partialListOf,
  type RegisteredAgent,
  type RegistryDiff,
  type RegistrySnapshot,
} from './registry-snapshot.js';
export { fetchRegistryDocument } from './registry-source.js';
