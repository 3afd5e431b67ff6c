export { type Env, EnvReader } from './env-reader.js';
export { type LogLevel, parseLogLevels } from './log-level.js';
export { DEFAULT_OPS_HOST, type OpsListenerConfig, readOpsListener } from './ops-config.js';
