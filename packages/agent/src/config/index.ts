export {
  type AgentConfig,
  type ConfigSources,
  type DeliveryConfig,
  type HttpConfig,
  type LinkConfig,
  type LinkTlsOptions,
  loadAgentConfig,
} from './agent-config.js';
