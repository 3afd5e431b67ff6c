import { type Env, EnvReader, type LogLevel, type PolicySettings, parseLogLevels } from '@dmr/shared';

/** TLS termination for agents (mutual TLS). */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA that issued agent client certificates. */
  readonly caFile: string;
  /** CRL re-read every `crlReloadIntervalMs`; revoked agents are refused and their live connections dropped. */
  readonly crlFile: string | undefined;
  readonly crlReloadIntervalMs: number;
}

/** TLS to RabbitMQ (AMQPS); with `EXTERNAL` the certificate is the login. */
export interface BrokerTlsConfig {
  readonly caFile: string;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

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
  readonly tls: BrokerTlsConfig | undefined;
  readonly authMechanism: 'PLAIN' | 'EXTERNAL';
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
  /** Agent-facing TLS; undefined only when `allowPlaintext` (TLS terminated at an ingress, or local experiments). */
  readonly tls: TlsConfig | undefined;
  readonly allowPlaintext: boolean;
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
    tls: readTls(read),
    allowPlaintext: read.bool('DMR_ALLOW_PLAINTEXT', false),
    broker: readBroker(read),
    policies: readPolicies(read),
    gateway: readGateway(read),
    registry: {
      url: read.url('CENTOPS_CONFIGURATION_URL', ['http:', 'https:', 'file:']),
      cronTime: read.string('CENTOPS_CONFIGURATION_CRON_TIME', '*/30 * * * *'),
      fetchTimeoutMs: read.int('CENTOPS_CONFIGURATION_TIMEOUT_MS', { default: 10_000, min: 100 }),
    },
  };
  if (!config.tls && !config.allowPlaintext) {
    read.problem(
      'TLS is not configured: set DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE and DMR_TLS_CA_FILE, or DMR_ALLOW_PLAINTEXT=true when TLS ends at an ingress',
    );
  }
  read.finish();
  return deepFreeze(config);
}

function readTls(read: EnvReader): TlsConfig | undefined {
  const certFile = read.optionalString('DMR_TLS_CERT_FILE');
  const keyFile = read.optionalString('DMR_TLS_KEY_FILE');
  const caFile = read.optionalString('DMR_TLS_CA_FILE');
  const crlFile = read.optionalString('DMR_TLS_CRL_FILE');
  const crlReloadIntervalMs = read.int('DMR_TLS_CRL_RELOAD_INTERVAL_MS', { default: 2000, min: 100 });
  if (!certFile && !keyFile && !caFile) return undefined;
  if (!certFile || !keyFile || !caFile) {
    read.problem('DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE and DMR_TLS_CA_FILE must be set together');
    return undefined;
  }
  return { certFile, keyFile, caFile, crlFile, crlReloadIntervalMs };
}

function readBrokerTls(read: EnvReader): BrokerTlsConfig | undefined {
  const caFile = read.optionalString('RABBITMQ_TLS_CA_FILE');
  const certFile = read.optionalString('RABBITMQ_TLS_CERT_FILE');
  const keyFile = read.optionalString('RABBITMQ_TLS_KEY_FILE');
  if (!caFile) {
    if (certFile || keyFile) read.problem('RABBITMQ_TLS_CERT_FILE/RABBITMQ_TLS_KEY_FILE need RABBITMQ_TLS_CA_FILE');
    return undefined;
  }
  if (Boolean(certFile) !== Boolean(keyFile)) read.problem('RABBITMQ_TLS_CERT_FILE and RABBITMQ_TLS_KEY_FILE must be set together');
  return { caFile, certFile, keyFile };
}

function readAuthMechanism(read: EnvReader): 'PLAIN' | 'EXTERNAL' {
  const value = read.string('RABBITMQ_AUTH_MECHANISM', 'PLAIN').toUpperCase();
  if (value !== 'PLAIN' && value !== 'EXTERNAL') read.problem(`RABBITMQ_AUTH_MECHANISM must be PLAIN or EXTERNAL, got "${value}"`);
  return value === 'EXTERNAL' ? 'EXTERNAL' : 'PLAIN';
}

function readBroker(read: EnvReader): BrokerConfig {
  const authMechanism = readAuthMechanism(read);
  const tls = readBrokerTls(read);
  if (authMechanism === 'EXTERNAL' && !tls?.certFile)
    read.problem('RABBITMQ_AUTH_MECHANISM=EXTERNAL needs RABBITMQ_TLS_CA_FILE, RABBITMQ_TLS_CERT_FILE and RABBITMQ_TLS_KEY_FILE');
  const applyPolicies = read.bool('RABBITMQ_APPLY_POLICIES', true);
  // with certificate login there is no password; the management API (policies) then needs one only if enabled
  const isPasswordNeeded = authMechanism === 'PLAIN' || applyPolicies;
  return {
    host: read.requiredString('RABBITMQ_DEFAULT_HOST'),
    port: read.int('RABBITMQ_DEFAULT_PORT', { min: 1, max: 65535 }),
    user: isPasswordNeeded ? read.requiredString('RABBITMQ_DEFAULT_USER') : read.string('RABBITMQ_DEFAULT_USER', ''),
    password: isPasswordNeeded ? read.requiredString('RABBITMQ_DEFAULT_PASS') : read.string('RABBITMQ_DEFAULT_PASS', ''),
    vhost: read.string('RABBITMQ_DEFAULT_VHOST', '/'),
    managementUri: applyPolicies
      ? read.url('RABBITMQ_DEFAULT_MANAGEMENT_UI_URI', ['http:', 'https:'])
      : read.string('RABBITMQ_DEFAULT_MANAGEMENT_UI_URI', ''),
    reconnectIntervalMs: read.int('RABBITMQ_DEFAULT_DEFAULT_RECONNECT_INTERVAL', { default: 5000, min: 10 }),
    reconnectIntervalMaxMs: read.int('RABBITMQ_RECONNECT_INTERVAL_MAX', { default: 30_000, min: 10 }),
    confirmTimeoutMs: read.int('RABBITMQ_CONFIRM_TIMEOUT_MS', { default: 10_000, min: 100 }),
    applyPolicies,
    heartbeatS: read.int('RABBITMQ_HEARTBEAT_S', { default: 10, min: 0 }),
    tls,
    authMechanism,
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
  const scheme = broker.tls ? 'amqps' : 'amqp';
  const auth = broker.authMechanism === 'PLAIN' ? `${encodeURIComponent(broker.user)}:${encodeURIComponent(broker.password)}@` : '';
  return `${scheme}://${auth}${broker.host}:${broker.port}/${encodeURIComponent(broker.vhost)}`;
}
