// broker settings are read in @dmr/shared (dmrctl connects the same way); re-exported for the server's modules
// file checks moved to @dmr/shared (dmr-control checks its TLS files the same way); re-exported for the server's modules
export {
  type BrokerConfig,
  type BrokerEndpoint,
  type BrokerTlsConfig,
  brokerUrl,
  type ConfigFiles,
  type ConfiguredFile,
  checkConfiguredFiles,
  LOCAL_FILES,
  parseBrokerHosts,
} from '@dmr/shared';
export {
  type ControlConfig,
  defaultInstanceId,
  type HostFacts,
  LOCAL_HOST_FACTS,
  readControl,
  type ServerTlsFiles,
} from './control-config.js';
export { type GatewayLimits, type RegistryTrust, readGatewayLimits, readRegistryTrust } from './limits-config.js';
export {
  DEFAULT_POLICY_WASM_FILE,
  type OpaSidecarConfig,
  POLICY_ENGINE_NAMES,
  type PolicyConfig,
  type PolicyEngineConfig,
  type PolicySourceConfig,
  readPolicy,
} from './policy-config.js';
export {
  type GatewayConfig,
  loadServerConfig,
  type RegistryConfig,
  type ServerCertificates,
  type ServerConfig,
  type TlsConfig,
} from './server-config.js';
