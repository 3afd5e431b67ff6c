export {
  type BrokerConfig,
  brokerUrl,
  type GatewayConfig,
  loadServerConfig,
  type RegistryConfig,
  type ServerConfig,
} from './server-config.js';
