import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BrokerConfig,
  type ConfigFiles,
  type ConfiguredFile,
  checkConfiguredFiles,
  type Env,
  EnvReader,
  LOCAL_FILES,
  type LogLevel,
  type OpsListenerConfig,
  parseLogLevels,
  readBrokerConfig,
  readOpsListener,
} from '@dmr/shared';
import { caPaths, keyModeProblem } from '../ca/files.js';
import { RING_FILE } from '../ca/ring.js';
import { parseCaRing, trustedCas } from '../domain/index.js';
import { type LifecycleConfig, readLifecycleConfig } from '../enroll/config.js';
import { CONTROL_DATABASE_URL_ENV, DEFAULT_CONTROL_DATABASE_URL, parseStoreUrl } from '../store/index.js';

/** Default largest request body, bytes (`DMR_MAX_BODY_BYTES`): room for an import of thousands of agents. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** dmr-control's own TLS: its server certificate and the CAs it trusts for client certificates. */
export interface ControlTlsConfig {
  /** `DMR_TLS_CERT_FILE`: the admin API's server certificate. */
  readonly certFile: string;
  /** `DMR_TLS_KEY_FILE`: its private key. */
  readonly keyFile: string;
  /**
   * `DMR_TLS_CA_FILE`: CA certificate(s) trusted for client certificates; default the CA dir's `ca.cert.pem`, or, with
   * a CA ring (`ring.json`), `''`: the ring's trusted agent CAs, following every change-over step without a restart.
   */
  readonly caFile: string;
}

/** Everything dmr-control reads from its environment, parsed once and frozen. */
export interface ControlConfig {
  /** `DMR_CONTROL_HOST` (default `0.0.0.0`). */
  readonly host: string;
  /** `DMR_CONTROL_PORT` (default 8443; 0 picks a free port). */
  readonly port: number;
  /** Plain-HTTP listener for health, readiness and metrics (`DMR_OPS_HOST`, `DMR_OPS_PORT`); none when the port is unset. */
  readonly ops: OpsListenerConfig | undefined;
  /** `DMR_CONTROL_DATABASE_URL`: `sqlite:<path>` (default `sqlite:./dmr-control.db`) or `postgres://…`. */
  readonly databaseUrl: string;
  /** `DMR_CONTROL_CA_DIR`: a CA directory made by `dmrctl ca init` (its key must be mode 0600); undefined when unset. */
  readonly caDir: string | undefined;
  readonly tls: ControlTlsConfig;
  /** RabbitMQ for the `dmr.control` announcements; undefined (push off, servers poll) without `RABBITMQ_DEFAULT_HOST`. */
  readonly broker: BrokerConfig | undefined;
  /** `DMR_MAX_BODY_BYTES`: largest request body (default 10 MiB); larger bodies are refused 413. */
  readonly maxBodyBytes: number;
  readonly logLevel: LogLevel;
  /** `DMR_SHUTDOWN_TIMEOUT_MS`: how long a stop lets requests in flight finish before closing their connections (default 10000). */
  readonly shutdownTimeoutMs: number;
  /** The certificate lifecycle (enrollment, renewal, CRLs); used when `caDir` is set. */
  readonly certificates: LifecycleConfig;
  /** The audit writer (docs/audit.md). */
  readonly audit: AuditConfig;
}

/** The file system facts the config check needs beyond reading files; injectable for unit tests. */
export interface ControlConfigFiles extends ConfigFiles {
  /** Permission bits of `path`; throws when it cannot be read. */
  readonly modeOf: (path: string) => number;
}

/** Reads and stats the local file system. */
export const LOCAL_CONTROL_FILES: ControlConfigFiles = { ...LOCAL_FILES, modeOf: (path) => statSync(path).mode };

/**
 * Parses dmr-control's environment and checks its files: the TLS certificate, key and client CA are readable and
 * what they claim, and the CA directory's key is private (0600, as ssh insists), so a CA key other users can read
 * never starts a service. Throws DMR_CONFIG_INVALID naming every bad variable.
 */
export function loadControlConfig(env: Env, files: ControlConfigFiles = LOCAL_CONTROL_FILES): ControlConfig {
  const read = new EnvReader(env);
  const logLevels = read.string('LOGGER_LOG_LEVELS', 'error,warn,log');
  const logLevel = parseLogLevels(logLevels);
  if (!logLevel) read.problem(`LOGGER_LOG_LEVELS has an unknown level in "${logLevels}"`);
  const port = read.int('DMR_CONTROL_PORT', { default: 8443, min: 0, max: 65_535 });
  const caDir = read.optionalString('DMR_CONTROL_CA_DIR');
  const isRing = caDir !== undefined && isReadable(files, join(caDir, RING_FILE));
  const config: ControlConfig = {
    host: read.string('DMR_CONTROL_HOST', '0.0.0.0'),
    port,
    ops: readOpsListener(read, port),
    databaseUrl: readDatabaseUrl(read),
    caDir,
    tls: readTls(read, caDir, isRing),
    broker: readOptionalBroker(read),
    maxBodyBytes: read.int('DMR_MAX_BODY_BYTES', { default: DEFAULT_MAX_BODY_BYTES, min: 1024, max: 1024 * 1024 * 1024 }),
    logLevel: logLevel ?? 'info',
    shutdownTimeoutMs: read.int('DMR_SHUTDOWN_TIMEOUT_MS', { default: 10_000, min: 0 }),
    certificates: readLifecycleConfig(read),
    audit: readAuditConfig(read),
  };
  if (config.audit.isWriterOn && (config.broker === undefined || caDir === undefined)) {
    read.problem('DMR_AUDIT_WRITER=on needs RABBITMQ_DEFAULT_HOST (the dmr.audit stream) and DMR_CONTROL_CA_DIR (the signing CA)');
  }
  checkConfiguredFiles(read, configuredFiles(config), files);
  if (caDir !== undefined) {
    for (const keyPath of caKeyPaths(read, caDir, isRing, files)) checkCaKey(read, keyPath, files);
  }
  read.finish();
  return deepFreeze(config);
}

function readDatabaseUrl(read: EnvReader): string {
  const url = read.string(CONTROL_DATABASE_URL_ENV, DEFAULT_CONTROL_DATABASE_URL);
  // the store's own parser, so the start refuses exactly the URLs the store could not open
  const parsed = parseStoreUrl(url);
  if (!parsed.ok) read.problem(parsed.problem);
  return url;
}

function readTls(read: EnvReader, caDir: string | undefined, isRing: boolean): ControlTlsConfig {
  const certFile = read.requiredString('DMR_TLS_CERT_FILE');
  const keyFile = read.requiredString('DMR_TLS_KEY_FILE');
  const fromCaDir = caDir === undefined ? undefined : isRing ? '' : caPaths(caDir).certificate;
  const caFile = read.optionalString('DMR_TLS_CA_FILE') ?? fromCaDir;
  if (caFile === undefined)
    read.problem('DMR_TLS_CA_FILE is required when DMR_CONTROL_CA_DIR is not set (the CAs of admin client certificates)');
  return { certFile, keyFile, caFile: caFile ?? '' };
}

/** Push is optional: without `RABBITMQ_DEFAULT_HOST` there is no broker, and servers rely on polling. */
function readOptionalBroker(read: EnvReader): BrokerConfig | undefined {
  if (read.optionalString('RABBITMQ_DEFAULT_HOST') === undefined) return undefined;
  // the control plane only publishes: it never applies queue policies, so the management API is not needed
  return readBrokerConfig(read, { needsManagement: false });
}

function configuredFiles(config: ControlConfig): ConfiguredFile[] {
  const broker = config.broker?.tls;
  return [
    { variable: 'DMR_TLS_CERT_FILE', path: config.tls.certFile || undefined, kind: 'certificate' },
    { variable: 'DMR_TLS_KEY_FILE', path: config.tls.keyFile || undefined, kind: 'private-key' },
    { variable: 'DMR_TLS_CA_FILE', path: config.tls.caFile || undefined, kind: 'ca-bundle' },
    { variable: 'RABBITMQ_TLS_CA_FILE', path: broker?.caFile, kind: 'ca-bundle' },
    { variable: 'RABBITMQ_TLS_CERT_FILE', path: broker?.certFile, kind: 'certificate' },
    { variable: 'RABBITMQ_TLS_KEY_FILE', path: broker?.keyFile, kind: 'private-key' },
  ];
}

function isReadable(files: ControlConfigFiles, path: string): boolean {
  try {
    files.readFile(path);
    return true;
  } catch {
    return false;
  }
}

/** The CA keys the service will sign with: the one CA directory's, or every trusted CA's of the ring. */
function caKeyPaths(read: EnvReader, caDir: string, isRing: boolean, files: ControlConfigFiles): string[] {
  if (!isRing) return [caPaths(caDir).key];
  try {
    const ring = parseCaRing(files.readFile(join(caDir, RING_FILE)).toString('utf8'));
    return trustedCas(ring).map((entry) => caPaths(join(caDir, entry.id)).key);
  } catch (error) {
    read.problem(`DMR_CONTROL_CA_DIR: ${(error as Error).message}`);
    return [];
  }
}

/** The CA key must exist and be private: group or other bits refuse the start (DMR_CA_KEY_EXPOSED's rule). */
function checkCaKey(read: EnvReader, keyPath: string, files: ControlConfigFiles): void {
  let mode: number;
  try {
    mode = files.modeOf(keyPath);
  } catch (error) {
    read.problem(`DMR_CONTROL_CA_DIR: cannot read "${keyPath}" (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return;
  }
  const problem = keyModeProblem(mode);
  if (problem !== undefined) read.problem(`DMR_CONTROL_CA_DIR: the CA key "${keyPath}" is refused: ${problem} (chmod 600 it)`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The audit writer's settings. */
export interface AuditConfig {
  /** `DMR_AUDIT_WRITER` (`on`/`off`, default off): consume dmr.audit into the Merkle log and publish the change log. */
  readonly isWriterOn: boolean;
  /** `DMR_AUDIT_HEAD_EVERY_EVENTS` (default 1000): a signed tree head at least every this many entries. */
  readonly headEveryEvents: number;
  /** `DMR_AUDIT_HEAD_EVERY_MS` (default 10000): and at least this often while entries are unsigned. */
  readonly headEveryMs: number;
}

function readAuditConfig(read: EnvReader): AuditConfig {
  const writer = read.string('DMR_AUDIT_WRITER', 'off');
  if (writer !== 'on' && writer !== 'off') read.problem(`DMR_AUDIT_WRITER must be on or off, got "${writer}"`);
  return {
    isWriterOn: writer === 'on',
    headEveryEvents: read.int('DMR_AUDIT_HEAD_EVERY_EVENTS', { default: 1000, min: 1, max: 1_000_000 }),
    headEveryMs: read.int('DMR_AUDIT_HEAD_EVERY_MS', { default: 10_000, min: 100, max: 86_400_000 }),
  };
}
