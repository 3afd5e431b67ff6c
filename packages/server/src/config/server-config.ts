import {
  type BrokerConfig,
  type CertLifecycleSettings,
  CLUSTER_ID_PATTERN,
  type ConfigFiles,
  type ConfiguredFile,
  checkConfiguredFiles,
  DEFAULT_CLUSTER_ID,
  type Env,
  EnvReader,
  isAgentId,
  LOCAL_FILES,
  type LogLevel,
  type OpsListenerConfig,
  type PolicySettings,
  parseLogLevels,
  readBrokerConfig,
  readCaBundleRefreshIntervalMs,
  readCertReloadIntervalMs,
  readOpsListener,
  readRenewAtFraction,
  splitUrlList,
} from '@dmr/shared';
import { type ControlConfig, type HostFacts, LOCAL_HOST_FACTS, readControl } from './control-config.js';
import { type GatewayLimits, type RegistryTrust, readGatewayLimits, readRegistryTrust } from './limits-config.js';
import { type PolicyConfig, readPolicy } from './policy-config.js';

/** TLS termination for agents (mutual TLS). */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA that issued agent client certificates. */
  readonly caFile: string;
  /**
   * CRL bundle file (`DMR_TLS_CRL_FILE`: one CRL per CA of `caFile`) re-read every `crlReloadIntervalMs`; revoked agents are
   * refused and their live connections dropped. At most one of `crlFile` and `crlUrl`.
   */
  readonly crlFile: string | undefined;
  /** CRL bundle URL (`DMR_TLS_CRL_URL`, dmr-control's `GET /v1/crl`): fetched at start, on a `crl` push and every `crlFetchIntervalMs`. */
  readonly crlUrl: string | undefined;
  /** `DMR_TLS_CRL_FETCH_INTERVAL_MS` (default 60000). */
  readonly crlFetchIntervalMs: number;
  /** Re-check interval of live certificates (expiry) and of `crlFile` (`DMR_TLS_CRL_RELOAD_INTERVAL_MS`, default 2000). */
  readonly crlReloadIntervalMs: number;
  /** A warning is logged once the CRL in force expires within this many ms (`DMR_TLS_CRL_WARN_BEFORE_MS`, default 24 h). */
  readonly crlWarnBeforeMs: number;
}

/** Socket gateway and delivery settings. */
export interface GatewayConfig {
  readonly maxMessageBytes: number;
  readonly deliveryAckTimeoutMs: number;
  readonly prefetch: number;
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
  /** Plain-HTTP listener for health, readiness and metrics (`DMR_OPS_HOST`, `DMR_OPS_PORT`); none when the port is unset. */
  readonly ops: OpsListenerConfig | undefined;
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
  /** Config push, version report and control-plane trust (issue 18). */
  readonly control: ControlConfig;
  /**
   * Issue 18: renewal of the TLS certificate with dmr-control (`control.url` and `control.caFile`: `DMR_CONTROL_URL`,
   * `DMR_CONTROL_CA_FILE`; `DMR_CERT_RENEW_AT_FRACTION`) and reloading of the TLS and RabbitMQ client certificates when
   * their files change (`DMR_CERT_RELOAD_INTERVAL_MS`).
   */
  readonly certificates: ServerCertificates;
  /** Issue 19: `DMR_POLICY_ENGINE` and where the policy is read (`DMR_POLICY_URL`, else dmr-control). */
  readonly policy: PolicyConfig;
}

/** The server's certificate lifecycle settings. */
export interface ServerCertificates extends CertLifecycleSettings {
  /**
   * Renew the relay user's RabbitMQ client certificate through dmr-control too, authenticated by the server's own
   * certificate (`DMR_CONTROL_RENEW_RABBITMQ_CERT`, default false: a certificate made offline by dmrctl cannot be).
   */
  readonly renewRabbitmqCertificate: boolean;
}

/**
 * Parses the server environment and checks that every configured TLS/CRL file is readable and holds what its
 * variable promises (`files`: the file system, injectable for tests). Throws DMR_CONFIG_INVALID naming every bad
 * variable (and file).
 */
export function loadServerConfig(env: Env, files: ConfigFiles = LOCAL_FILES, host: HostFacts = LOCAL_HOST_FACTS): ServerConfig {
  const read = new EnvReader(env);
  const logLevels = read.string('LOGGER_LOG_LEVELS', 'error,warn,log');
  const logLevel = parseLogLevels(logLevels);
  if (!logLevel) read.problem(`LOGGER_LOG_LEVELS has an unknown level in "${logLevels}"`);
  const port = read.int('PORT', { default: 5000, min: 0, max: 65535 });
  refuseIgnoredSeedVariables(read);
  const tls = readTls(read);
  const control = readControl(read, tls, host);
  const config: ServerConfig = {
    port,
    host: read.string('HOST', '0.0.0.0'),
    ops: readOpsListener(read, port),
    environment: read.string('ENVIRONMENT', 'development'),
    logLevel: logLevel ?? 'info',
    shutdownTimeoutMs: read.int('DMR_SHUTDOWN_TIMEOUT_MS', { default: 10_000, min: 0 }),
    tls,
    allowPlaintext: read.bool('DMR_ALLOW_PLAINTEXT', false),
    broker: readBrokerConfig(read),
    policies: readPolicies(read),
    gateway: readGateway(read),
    registry: readRegistry(read),
    control,
    certificates: readCertificates(read, control),
    policy: readPolicy(read, control.url, files),
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

/**
 * Seed 003 variables DMR deliberately does not implement. Accepting them would be configuration that does nothing,
 * so each one set stops the start with the reason (packages/server/README.md, "Seed 003 variables").
 */
function refuseIgnoredSeedVariables(read: EnvReader): void {
  if (read.optionalString('WEB_SOCKET_MAX_DISCONNECTION_DURATION') === undefined) return;
  read.problem(
    'WEB_SOCKET_MAX_DISCONNECTION_DURATION is not supported: DMR does not use Socket.IO connection-state recovery, because every delivery is acked end to end and redelivered from RabbitMQ after a reconnect, so recovery would only replay packets; remove the variable (packages/server/README.md, "Seed 003 variables")',
  );
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
    ...controlFiles(config),
  ];
}

/** The control plane's own files; the fall-backs (DMR_TLS_*, CENTOPS_CONFIGURATION_CA_FILE) are checked under their own names. */
/** The certificate lifecycle: dmr-control as `readControl` read it (one reading of `DMR_CONTROL_URL`), plus its own variables. */
function readCertificates(read: EnvReader, control: ControlConfig): ServerCertificates {
  const renewRabbitmqCertificate = read.bool('DMR_CONTROL_RENEW_RABBITMQ_CERT', false);
  const hasRelayCertificate = read.optionalString('RABBITMQ_TLS_CERT_FILE') !== undefined;
  const hasTls = read.optionalString('DMR_TLS_CERT_FILE') !== undefined;
  if (renewRabbitmqCertificate && (control.url === undefined || !hasRelayCertificate || !hasTls)) {
    read.problem(
      'DMR_CONTROL_RENEW_RABBITMQ_CERT=true needs DMR_CONTROL_URL, RABBITMQ_TLS_CERT_FILE (the certificate renewed) and DMR_TLS_CERT_FILE (the server certificate that authenticates the renewal)',
    );
  }
  return {
    control: control.url === undefined ? undefined : { url: control.url, caFile: control.caFile },
    renewAtFraction: readRenewAtFraction(read),
    reloadIntervalMs: readCertReloadIntervalMs(read),
    caBundleRefreshIntervalMs: readCaBundleRefreshIntervalMs(read),
    renewRabbitmqCertificate,
  };
}

function controlFiles(config: ServerConfig): ConfiguredFile[] {
  const { control, tls } = config;
  const files: ConfiguredFile[] = [];
  if (control.caFile !== config.registry.trust.caFile)
    files.push({ variable: 'DMR_CONTROL_CA_FILE', path: control.caFile, kind: 'ca-bundle' });
  if (control.clientCertFile !== tls?.certFile) {
    files.push({ variable: 'DMR_CONTROL_CLIENT_CERT_FILE', path: control.clientCertFile, kind: 'certificate' });
    files.push({ variable: 'DMR_CONTROL_CLIENT_KEY_FILE', path: control.clientKeyFile, kind: 'private-key' });
  }
  return files;
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
  // a CRL is signed: like a CRL distribution point it may come over http://, and an older one never replaces a newer
  const crlUrl = read.optionalString('DMR_TLS_CRL_URL') === undefined ? undefined : read.url('DMR_TLS_CRL_URL', ['https:', 'http:']);
  const crlFetchIntervalMs = read.int('DMR_TLS_CRL_FETCH_INTERVAL_MS', { default: 60_000, min: 1000 });
  const crlReloadIntervalMs = read.int('DMR_TLS_CRL_RELOAD_INTERVAL_MS', { default: 2000, min: 100 });
  const crlWarnBeforeMs = read.int('DMR_TLS_CRL_WARN_BEFORE_MS', { default: 86_400_000, min: 0 });
  if (crlFile !== undefined && crlUrl !== undefined) read.problem('DMR_TLS_CRL_FILE and DMR_TLS_CRL_URL are alternatives: set one of them');
  if (!certFile && !keyFile && !caFile) {
    if (crlUrl !== undefined) read.problem('DMR_TLS_CRL_URL needs DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE and DMR_TLS_CA_FILE (mutual TLS)');
    return undefined;
  }
  if (!certFile || !keyFile || !caFile) {
    read.problem('DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE and DMR_TLS_CA_FILE must be set together');
    return undefined;
  }
  return { certFile, keyFile, caFile, crlFile, crlUrl, crlFetchIntervalMs, crlReloadIntervalMs, crlWarnBeforeMs };
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
