export {
  type BrokerConfig,
  type BrokerEndpoint,
  type BrokerReadOptions,
  type BrokerTlsConfig,
  type BrokerTlsMaterial,
  brokerTlsOptions,
  brokerUrl,
  parseBrokerHosts,
  readBrokerConfig,
  splitUrlList,
} from './broker-config.js';
export {
  type CertLifecycleSettings,
  type ControlEndpoint,
  DEFAULT_CERT_RELOAD_INTERVAL_MS,
  DEFAULT_RENEW_AT_FRACTION,
  RENEW_AT_FRACTION_RANGE,
  readCaBundleRefreshIntervalMs,
  readCertLifecycle,
  readCertReloadIntervalMs,
  readControlEndpoint,
  readRenewAtFraction,
} from './cert-lifecycle-config.js';
export { type ConfigFiles, type ConfiguredFile, checkConfiguredFiles, type FileKind, LOCAL_FILES } from './config-files.js';
export { type Env, EnvReader } from './env-reader.js';
export { type LogLevel, parseLogLevels } from './log-level.js';
export { DEFAULT_OPS_HOST, type OpsListenerConfig, readOpsListener } from './ops-config.js';
