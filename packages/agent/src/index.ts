/**
 * Public surface of `@dmr/agent`: build an agent from a parsed configuration and run it.
 */
export { buildOpenApiDocument, type ErrorBody, type JsonObject, type Readiness } from './api/index.js';
export { type Agent, type AgentDeps, type AgentState, buildAgent } from './build-agent.js';
export { enrollmentExitCode, type PrepareDeps, prepareAgentCertificate } from './certs/index.js';
export {
  type AgentCertificatesConfig,
  type AgentConfig,
  type ConfigSources,
  type DeliveryConfig,
  type HttpConfig,
  type LinkConfig,
  type LinkTlsOptions,
  loadAgentConfig,
} from './config/index.js';
export type { LinkState } from './link/index.js';
