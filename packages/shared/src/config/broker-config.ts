import { isIP } from 'node:net';
import { pemCertificates } from '../pki/pem-bundle.js';
import type { EnvReader } from './env-reader.js';

/** One RabbitMQ node a client may connect to. */
export interface BrokerEndpoint {
  readonly host: string;
  readonly port: number;
}

/** TLS to RabbitMQ (AMQPS); with `EXTERNAL` the certificate is the login. */
export interface BrokerTlsConfig {
  readonly caFile: string;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

/** Broker connection settings, read from seed 003's `RABBITMQ_*` variables plus DMR's own (packages/server/README.md). */
export interface BrokerConfig {
  /** First entry of {@link BrokerConfig.endpoints} (kept for single-node callers). */
  readonly host: string;
  readonly port: number;
  /** Every node a client may connect to, tried round-robin on connect failure and connection loss. */
  readonly endpoints: readonly BrokerEndpoint[];
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
  /** First entry of {@link BrokerConfig.managementUris}. */
  readonly managementUri: string;
  /** Management API base URLs, tried in order until one answers (one per cluster node, or a load balancer). */
  readonly managementUris: readonly string[];
  readonly reconnectIntervalMs: number;
  readonly reconnectIntervalMaxMs: number;
  readonly confirmTimeoutMs: number;
  readonly applyPolicies: boolean;
  readonly heartbeatS: number;
  readonly tls: BrokerTlsConfig | undefined;
  readonly authMechanism: 'PLAIN' | 'EXTERNAL';
}

/** What the caller needs beyond AMQP. */
export interface BrokerReadOptions {
  /**
   * Whether the management API (and so a password, even with certificate login) is needed. Default: what
   * `RABBITMQ_APPLY_POLICIES` says (the server applies policies through it); `dmrctl` needs it only to list queues.
   */
  readonly needsManagement?: boolean;
}

/**
 * Reads the broker settings (`RABBITMQ_DEFAULT_HOST`, `_PORT`, `_USER`, `_PASS`, `_VHOST`, `_MANAGEMENT_UI_URI`,
 * `RABBITMQ_TLS_*`, `RABBITMQ_AUTH_MECHANISM`, …). Pure: problems are recorded on `read`, whose `finish()` throws
 * DMR_CONFIG_INVALID naming every bad variable. Shared by dmr-server and `dmrctl`, so both connect the same way.
 */
export function readBrokerConfig(read: EnvReader, options: BrokerReadOptions = {}): BrokerConfig {
  const authMechanism = readAuthMechanism(read);
  const tls = readBrokerTls(read);
  if (authMechanism === 'EXTERNAL' && !tls?.certFile)
    read.problem('RABBITMQ_AUTH_MECHANISM=EXTERNAL needs RABBITMQ_TLS_CA_FILE, RABBITMQ_TLS_CERT_FILE and RABBITMQ_TLS_KEY_FILE');
  const applyPolicies = read.bool('RABBITMQ_APPLY_POLICIES', true);
  const needsManagement = options.needsManagement ?? applyPolicies;
  // with certificate login there is no password; the management API then needs one only if it is used
  const isPasswordNeeded = authMechanism === 'PLAIN' || needsManagement;
  const endpoints = readEndpoints(read);
  const managementUris = needsManagement ? readManagementUris(read) : splitUrlList(read.string('RABBITMQ_DEFAULT_MANAGEMENT_UI_URI', ''));
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
    if (!isHttpUrl(uri)) read.problem(`RABBITMQ_DEFAULT_MANAGEMENT_UI_URI entry "${uri}" is not an http(s) URL`);
  }
  return uris;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const ENTRY_PATTERN = /^(?:\[(?<v6>[0-9A-Fa-f:.]+)\]|(?<name>[A-Za-z0-9._-]+))(?::(?<port>\d{1,5}))?$/;

/**
 * Parses `RABBITMQ_DEFAULT_HOST`: one host, or a comma-separated list of cluster nodes, each `host`,
 * `host:port` or `[ipv6]:port`; an entry without a port uses `defaultPort` (`RABBITMQ_DEFAULT_PORT`).
 * Pure. Returns the endpoints in the given order, or the problem with the first bad entry.
 */
export function parseBrokerHosts(
  value: string,
  defaultPort: number,
): { ok: true; endpoints: BrokerEndpoint[] } | { ok: false; problem: string } {
  const entries = splitUrlList(value);
  if (entries.length === 0) return { ok: false, problem: 'RABBITMQ_DEFAULT_HOST names no host' };
  const endpoints: BrokerEndpoint[] = [];
  for (const entry of entries) {
    const match = ENTRY_PATTERN.exec(entry);
    const host = match?.groups?.v6 ?? match?.groups?.name;
    const port = match?.groups?.port === undefined ? defaultPort : Number(match.groups.port);
    if (!host || port < 1 || port > 65_535) {
      return { ok: false, problem: `RABBITMQ_DEFAULT_HOST entry "${entry}" is not host, host:port or [ipv6]:port` };
    }
    endpoints.push({ host, port });
  }
  return { ok: true, endpoints };
}

/** Splits a comma-separated list (`RABBITMQ_DEFAULT_MANAGEMENT_UI_URI` may name one URL per cluster node). Pure. */
export function splitUrlList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** AMQP URL of `endpoint` (default: the first configured node) built from the seed 003 variables (password URL-encoded). */
export function brokerUrl(broker: BrokerConfig, endpoint: BrokerEndpoint = broker): string {
  const scheme = broker.tls ? 'amqps' : 'amqp';
  const auth = broker.authMechanism === 'PLAIN' ? `${encodeURIComponent(broker.user)}:${encodeURIComponent(broker.password)}@` : '';
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${scheme}://${auth}${host}:${endpoint.port}/${encodeURIComponent(broker.vhost)}`;
}

/** The bytes of the files {@link BrokerTlsConfig} names, read by the caller at each connect (rotation). */
export interface BrokerTlsMaterial {
  readonly ca: Buffer;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}

/**
 * TLS socket options for an AMQPS connection to `host`: the configured CA (or CA bundle) only, the client certificate when given,
 * verification always on (no option turns it off), TLS ≥ 1.2, and SNI for host names (for an IP address the
 * certificate's IP SAN is checked against the host itself). Pure.
 */
export function brokerTlsOptions(material: BrokerTlsMaterial, host: string): Record<string, unknown> {
  return {
    // a bundle of several CAs (a change-over), also one whose files were concatenated without a final newline
    ca: pemCertificates(material.ca.toString('utf8')),
    ...(material.cert && material.key ? { cert: material.cert, key: material.key } : {}),
    ...(isIP(host) ? {} : { servername: host }),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}
