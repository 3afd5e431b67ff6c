export {
  type AgentConfig,
  type ConfigSources,
  type DeliveryConfig,
  type HttpConfig,
  type LinkConfig,
  type LinkTlsOptions,
  loadAgentConfig,
  type PeerTrustConfig,
} from './agent-config.js';
