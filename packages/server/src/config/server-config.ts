import { type Env, EnvReader, type LogLevel, type PolicySettings, parseLogLevels } from '@dmr/shared';

/** Broker connection settings. */
export interface BrokerConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
  readonly managementUri: string;
  readonly reconnectIntervalMs: number;
  readonly reconnectIntervalMaxMs: number;
  readonly confirmTimeoutMs: number;
  readonly applyPolicies: boolean;
  readonly heartbeatS: number;
}

/** Socket gateway and delivery settings. */
export interface GatewayConfig {
  readonly maxMessageBytes: number;
  readonly deliveryAckTimeoutMs: number;
  readonly prefetch: number;
  readonly maxDisconnectionDurationMs: number;
}

/** Agent registry (CentOps configuration) settings. */
export interface RegistryConfig {
  readonly url: string;
  readonly cronTime: string;
  readonly fetchTimeoutMs: number;
}

/** Everything dmr-server reads from its environment, parsed once and frozen. */
export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  readonly environment: string;
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  readonly broker: BrokerConfig;
  readonly policies: PolicySettings;
  readonly gateway: GatewayConfig;
  readonly registry: RegistryConfig;
}

/** Parses the server environment. Throws DMR_CONFIG_INVALID naming every bad variable. */
export function loadServerConfig(env: Env): ServerConfig {
  const read = new EnvReader(env);
  const logLevels = read.string('LOGGER_LOG_LEVELS', 'error,warn,log');
  const logLevel = parseLogLevels(logLevels);
  if (!logLevel) read.problem(`LOGGER_LOG_LEVELS has an unknown level in "${logLevels}"`);
  const config: ServerConfig = {
    port: read.int('PORT', { default: 5000, min: 0, max: 65535 }),
    host: read.string('HOST', '0.0.0.0'),
    environment: read.string('ENVIRONMENT', 'development'),
    logLevel: logLevel ?? 'info',
    shutdownTimeoutMs: read.int('DMR_SHUTDOWN_TIMEOUT_MS', { default: 10_000, min: 0 }),
    broker: readBroker(read),
    policies: readPolicies(read),
    gateway: readGateway(read),
    registry: {
      url: read.url('CENTOPS_CONFIGURATION_URL', ['http:', 'https:', 'file:']),
      cronTime: read.string('CENTOPS_CONFIGURATION_CRON_TIME', '*/30 * * * *'),
      fetchTimeoutMs: read.int('CENTOPS_CONFIGURATION_TIMEOUT_MS', { default: 10_000, min: 100 }),
    },
  };
  read.finish();
  return deepFreeze(config);
}

function readBroker(read: EnvReader): BrokerConfig {
  return {
    host: read.requiredString('RABBITMQ_DEFAULT_HOST'),
    port: read.int('RABBITMQ_DEFAULT_PORT', { min: 1, max: 65535 }),
    user: read.requiredString('RABBITMQ_DEFAULT_USER'),
    password: read.requiredString('RABBITMQ_DEFAULT_PASS'),
    vhost: read.string('RABBITMQ_DEFAULT_VHOST', '/'),
    managementUri: read.url('RABBITMQ_DEFAULT_MANAGEMENT_UI_URI', ['http:', 'https:']),
    reconnectIntervalMs: read.int('RABBITMQ_DEFAULT_DEFAULT_RECONNECT_INTERVAL', { default: 5000, min: 10 }),
    reconnectIntervalMaxMs: read.int('RABBITMQ_RECONNECT_INTERVAL_MAX', { default: 30_000, min: 10 }),
    confirmTimeoutMs: read.int('RABBITMQ_CONFIRM_TIMEOUT_MS', { default: 10_000, min: 100 }),
    applyPolicies: read.bool('RABBITMQ_APPLY_POLICIES', true),
    heartbeatS: read.int('RABBITMQ_HEARTBEAT_S', { default: 10, min: 0 }),
  };
}

function readPolicies(read: EnvReader): PolicySettings {
  return {
    messageTtlMs: read.int('RABBITMQ_DEFAULT_TTL', { default: 300_000, min: 1 }),
    deadLetterTtlMs: read.int('RABBITMQ_DEFAULT_DLQ_TTL', { default: 86_400_000, min: 1 }),
    validationFailuresTtlMs: read.int('RABBITMQ_VALIDATION_FAILURES_TTL', { default: 86_400_000, min: 1 }),
    deliveryLimit: read.int('RABBITMQ_DELIVERY_LIMIT', { default: 10, min: 0 }),
  };
}

function readGateway(read: EnvReader): GatewayConfig {
  return {
    maxMessageBytes: read.int('DMR_MAX_MESSAGE_BYTES', { default: 1_048_576, min: 1024 }),
    deliveryAckTimeoutMs: read.int('DMR_DELIVERY_ACK_TIMEOUT_MS', { default: 30_000, min: 100 }),
    prefetch: read.int('RABBITMQ_PREFETCH', { default: 100, min: 1, max: 65535 }),
    maxDisconnectionDurationMs: read.int('WEB_SOCKET_MAX_DISCONNECTION_DURATION', { default: 120_000, min: 0 }),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** AMQP URL built from the seed 003 variables (password URL-encoded). */
export function brokerUrl(broker: BrokerConfig): string {
  const auth = `${encodeURIComponent(broker.user)}:${encodeURIComponent(broker.password)}`;
  return `amqp://${auth}@${broker.host}:${broker.port}/${encodeURIComponent(broker.vhost)}`;
}
