import {
  CLUSTER_ID_PATTERN,
  DEFAULT_CLUSTER_ID,
  type Env,
  EnvReader,
  isAgentId,
  type LogLevel,
  type PolicySettings,
  parseLogLevels,
} from '@dmr/shared';
import { type BrokerEndpoint, parseBrokerHosts, splitUrlList } from './broker-hosts.js';
import { type GatewayLimits, type RegistryTrust, readGatewayLimits, readRegistryTrust } from './limits-config.js';
import { type ConfigFiles, type ConfiguredFile, checkConfiguredFiles, LOCAL_FILES } from './tls-files.js';

/** TLS termination for agents (mutual TLS). */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA that issued agent client certificates. */
  readonly caFile: string;
  /** CRL re-read every `crlReloadIntervalMs`; revoked agents are refused and their live connections dropped. */
  readonly crlFile: string | undefined;
  readonly crlReloadIntervalMs: number;
  /** A warning is logged once the CRL in force expires within this many ms (`DMR_TLS_CRL_WARN_BEFORE_MS`, default 24 h). */
  readonly crlWarnBeforeMs: number;
}

/** TLS to RabbitMQ (AMQPS); with `EXTERNAL` the certificate is the login. */
export interface BrokerTlsConfig {
  readonly caFile: string;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

/** Broker connection settings. */
export interface BrokerConfig {
  /** First entry of {@link BrokerConfig.endpoints} (kept for single-node callers). */
  readonly host: string;
  readonly port: number;
  /** Every node the server may connect to, tried round-robin on connect failure and connection loss. */
  readonly endpoints: readonly BrokerEndpoint[];
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
  /** First entry of {@link BrokerConfig.managementUris}. */
  readonly managementUri: string;
  /** Management API base URLs, tried in order until one applies the policies (one per cluster node, or a load balancer). */
  readonly managementUris: readonly string[];
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
  /** First pause before a failed delivery is tried again, ms (`DMR_REDELIVERY_DELAY_MS`). */
  readonly redeliveryDelayMs: number;
  /** Cap of that pause, ms (`DMR_REDELIVERY_DELAY_MAX_MS`). */
  readonly redeliveryDelayMaxMs: number;
  /** This server's cluster id (`DMR_CLUSTER_ID`, default `dmr`): the `aud` every handshake token must carry. */
  readonly clusterId: string;
  /** Seed-003 agents whose handshake tokens may lack `aud` and `jti` (`DMR_LEGACY_AGENT_IDS`, comma list). */
  readonly legacyAgentIds: readonly string[];
  /** Per-agent and pre-authentication limits (see limits-config.ts). */
  readonly limits: GatewayLimits;
}

/** Agent registry (CentOps configuration) settings. */
export interface RegistryConfig {
  readonly url: string;
  readonly cronTime: string;
  readonly fetchTimeoutMs: number;
  /**
   * Broker user names no registered agent id may equal, beyond the built-in ones: `RABBITMQ_DEFAULT_USER` and
   * `DMR_RESERVED_AGENT_IDS` (comma list). A registry naming one is refused.
   */
  readonly reservedAgentIds: readonly string[];
  /** Transport and change-size rules the registry must meet (see limits-config.ts). */
  readonly trust: RegistryTrust;
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

/**
 * Parses the server environment and checks that every configured TLS/CRL file is readable and holds what its
 * variable promises (`files`: the file system, injectable for tests). Throws DMR_CONFIG_INVALID naming every bad
 * variable (and file).
 */
export function loadServerConfig(env: Env, files: ConfigFiles = LOCAL_FILES): ServerConfig {
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
    registry: readRegistry(read),
  };
  if (!config.tls && !config.allowPlaintext) {
    read.problem(
      'TLS is not configured: set DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE and DMR_TLS_CA_FILE, or DMR_ALLOW_PLAINTEXT=true when TLS ends at an ingress',
    );
  }
  checkConfiguredFiles(read, configuredFiles(config), files);
  read.finish();
  return deepFreeze(config);
}

function configuredFiles(config: ServerConfig): ConfiguredFile[] {
  const { tls } = config;
  const broker = config.broker.tls;
  return [
    { variable: 'DMR_TLS_CERT_FILE', path: tls?.certFile, kind: 'certificate' },
    { variable: 'DMR_TLS_KEY_FILE', path: tls?.keyFile, kind: 'private-key' },
    { variable: 'DMR_TLS_CA_FILE', path: tls?.caFile, kind: 'ca-bundle' },
    { variable: 'DMR_TLS_CRL_FILE', path: tls?.crlFile, kind: 'crl' },
    { variable: 'RABBITMQ_TLS_CA_FILE', path: broker?.caFile, kind: 'ca-bundle' },
    { variable: 'RABBITMQ_TLS_CERT_FILE', path: broker?.certFile, kind: 'certificate' },
    { variable: 'RABBITMQ_TLS_KEY_FILE', path: broker?.keyFile, kind: 'private-key' },
  ];
}

function readRegistry(read: EnvReader): RegistryConfig {
  const url = read.url('CENTOPS_CONFIGURATION_URL', ['http:', 'https:', 'file:']);
  return {
    url,
    cronTime: read.string('CENTOPS_CONFIGURATION_CRON_TIME', '*/30 * * * *'),
    fetchTimeoutMs: read.int('CENTOPS_CONFIGURATION_TIMEOUT_MS', { default: 10_000, min: 100 }),
    trust: readRegistryTrust(read, url),
    reservedAgentIds: [
      ...readNameList(read, 'DMR_RESERVED_AGENT_IDS'),
      ...[read.string('RABBITMQ_DEFAULT_USER', '').trim()].filter((user) => user !== ''),
    ],
  };
}

function readTls(read: EnvReader): TlsConfig | undefined {
  const certFile = read.optionalString('DMR_TLS_CERT_FILE');
  const keyFile = read.optionalString('DMR_TLS_KEY_FILE');
  const caFile = read.optionalString('DMR_TLS_CA_FILE');
  const crlFile = read.optionalString('DMR_TLS_CRL_FILE');
  const crlReloadIntervalMs = read.int('DMR_TLS_CRL_RELOAD_INTERVAL_MS', { default: 2000, min: 100 });
  const crlWarnBeforeMs = read.int('DMR_TLS_CRL_WARN_BEFORE_MS', { default: 86_400_000, min: 0 });
  if (!certFile && !keyFile && !caFile) return undefined;
  if (!certFile || !keyFile || !caFile) {
    read.problem('DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE and DMR_TLS_CA_FILE must be set together');
    return undefined;
  }
  return { certFile, keyFile, caFile, crlFile, crlReloadIntervalMs, crlWarnBeforeMs };
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
  const endpoints = readEndpoints(read);
  const managementUris = applyPolicies ? readManagementUris(read) : splitUrlList(read.string('RABBITMQ_DEFAULT_MANAGEMENT_UI_URI', ''));
  return {
    host: endpoints[0]?.host ?? '',
    port: endpoints[0]?.port ?? 0,
    endpoints,
    user: isPasswordNeeded ? read.requiredString('RABBITMQ_DEFAULT_USER') : read.string('RABBITMQ_DEFAULT_USER', ''),
    password: isPasswordNeeded ? read.requiredString('RABBITMQ_DEFAULT_PASS') : read.string('RABBITMQ_DEFAULT_PASS', ''),
    vhost: read.string('RABBITMQ_DEFAULT_VHOST', '/'),
    managementUri: managementUris[0] ?? '',
    managementUris,
    reconnectIntervalMs: read.int('RABBITMQ_DEFAULT_DEFAULT_RECONNECT_INTERVAL', { default: 5000, min: 10 }),
    reconnectIntervalMaxMs: read.int('RABBITMQ_RECONNECT_INTERVAL_MAX', { default: 30_000, min: 10 }),
    confirmTimeoutMs: read.int('RABBITMQ_CONFIRM_TIMEOUT_MS', { default: 10_000, min: 100 }),
    applyPolicies,
    heartbeatS: read.int('RABBITMQ_HEARTBEAT_S', { default: 10, min: 0 }),
    tls,
    authMechanism,
  };
}

function readEndpoints(read: EnvReader): BrokerEndpoint[] {
  const hosts = read.requiredString('RABBITMQ_DEFAULT_HOST');
  const defaultPort = read.int('RABBITMQ_DEFAULT_PORT', { min: 1, max: 65535 });
  if (hosts === '') return [];
  const parsed = parseBrokerHosts(hosts, defaultPort);
  if (parsed.ok) return parsed.endpoints;
  read.problem(parsed.problem);
  return [];
}

function readManagementUris(read: EnvReader): string[] {
  const uris = splitUrlList(read.string('RABBITMQ_DEFAULT_MANAGEMENT_UI_URI', ''));
  if (uris.length === 0) read.problem('RABBITMQ_DEFAULT_MANAGEMENT_UI_URI is required');
  for (const uri of uris) {
    // one reader per entry so the message names the variable and the bad entry
    const single = new EnvReader({ RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: uri });
    single.url('RABBITMQ_DEFAULT_MANAGEMENT_UI_URI', ['http:', 'https:']);
    try {
      single.finish();
    } catch {
      read.problem(`RABBITMQ_DEFAULT_MANAGEMENT_UI_URI entry "${uri}" is not an http(s) URL`);
    }
  }
  return uris;
}

function readPolicies(read: EnvReader): PolicySettings {
  return {
    messageTtlMs: read.int('RABBITMQ_DEFAULT_TTL', { default: 300_000, min: 1 }),
    deadLetterTtlMs: read.int('RABBITMQ_DEFAULT_DLQ_TTL', { default: 86_400_000, min: 1 }),
    validationFailuresTtlMs: read.int('RABBITMQ_VALIDATION_FAILURES_TTL', { default: 86_400_000, min: 1 }),
    deliveryLimit: read.int('RABBITMQ_DELIVERY_LIMIT', { default: 10, min: 0 }),
    maxQueueLength: read.int('RABBITMQ_MAX_QUEUE_LENGTH', { default: 100_000, min: 0 }),
    returnLimit: read.int('RABBITMQ_RETURN_LIMIT', { default: 50, min: 1 }),
  };
}

function readGateway(read: EnvReader): GatewayConfig {
  return {
    maxMessageBytes: read.int('DMR_MAX_MESSAGE_BYTES', { default: 1_048_576, min: 1024 }),
    deliveryAckTimeoutMs: read.int('DMR_DELIVERY_ACK_TIMEOUT_MS', { default: 30_000, min: 100 }),
    prefetch: read.int('RABBITMQ_PREFETCH', { default: 100, min: 1, max: 65535 }),
    maxDisconnectionDurationMs: read.int('WEB_SOCKET_MAX_DISCONNECTION_DURATION', { default: 120_000, min: 0 }),
    redeliveryDelayMs: read.int('DMR_REDELIVERY_DELAY_MS', { default: 1000, min: 1 }),
    redeliveryDelayMaxMs: read.int('DMR_REDELIVERY_DELAY_MAX_MS', { default: 30_000, min: 1 }),
    clusterId: readClusterId(read),
    legacyAgentIds: readNameList(read, 'DMR_LEGACY_AGENT_IDS', isAgentId),
    limits: readGatewayLimits(read),
  };
}

function readClusterId(read: EnvReader): string {
  const clusterId = read.string('DMR_CLUSTER_ID', DEFAULT_CLUSTER_ID);
  if (!CLUSTER_ID_PATTERN.test(clusterId)) {
    read.problem(`DMR_CLUSTER_ID must be 1-128 letters, digits, ".", "_", ":" or "-", got "${clusterId}"`);
  }
  return clusterId;
}

/** A comma-separated list of names; with `isValid`, a bad entry is a problem naming the variable. */
function readNameList(read: EnvReader, name: string, isValid?: (value: string) => boolean): string[] {
  const names = splitUrlList(read.string(name, ''));
  for (const entry of names) if (isValid && !isValid(entry)) read.problem(`${name} entry "${entry}" is not a valid agent id`);
  return names;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** AMQP URL of `endpoint` (default: the first configured node) built from the seed 003 variables (password URL-encoded). */
export function brokerUrl(broker: BrokerConfig, endpoint: BrokerEndpoint = broker): string {
  const scheme = broker.tls ? 'amqps' : 'amqp';
  const auth = broker.authMechanism === 'PLAIN' ? `${encodeURIComponent(broker.user)}:${encodeURIComponent(broker.password)}@` : '';
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${scheme}://${auth}${host}:${endpoint.port}/${encodeURIComponent(broker.vhost)}`;
}
