export {
  type AgentCertificatesConfig,
  type AgentConfig,
  type ConfigSources,
  type DeliveryConfig,
  type HttpConfig,
  type LinkConfig,
  type LinkTlsOptions,
  loadAgentConfig,
  type PeerTrustConfig,
} from './agent-config.js';
export { type EnrollmentSettings, loadEnrollmentSettings } from './enrollment-config.js';
