export { type Env, EnvReader } from './env-reader.js';
export { type LogLevel, parseLogLevels } from './log-level.js';
