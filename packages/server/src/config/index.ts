export { type BrokerEndpoint, parseBrokerHosts } from './broker-hosts.js';
export { type GatewayLimits, type RegistryTrust, readGatewayLimits, readRegistryTrust } from './limits-config.js';
export {
  type BrokerConfig,
  type BrokerTlsConfig,
  brokerUrl,
  type GatewayConfig,
  loadServerConfig,
  type RegistryConfig,
  type ServerConfig,
  type TlsConfig,
} from './server-config.js';
export { type ConfigFiles, type ConfiguredFile, checkConfiguredFiles, LOCAL_FILES } from './tls-files.js';
