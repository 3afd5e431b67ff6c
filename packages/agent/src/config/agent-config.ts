import { readFileSync } from 'node:fs';
import {
  AgentId,
  CLUSTER_ID_PATTERN,
  compileValidator,
  DEFAULT_CLUSTER_ID,
  type Env,
  EnvReader,
  importPrivateKey,
  type LogLevel,
  type OpsListenerConfig,
  type PeerTrustPolicy,
  type PrivateKeyRef,
  parseLogLevels,
  parseTrustAnchors,
  readOpsListener,
} from '@dmr/shared';
import { readConfiguredFile } from './config-files.js';
import { type AgentCertificatesConfig, type LinkTlsOptions, readLinkTls } from './link-tls-config.js';

export type { AgentCertificatesConfig, LinkTlsOptions } from './link-tls-config.js';

/** The link's slice: how to reach and keep the one Socket.IO connection. */
export interface LinkConfig {
  /**
   * DMR server origins (`http(s)://` or `ws(s)://`), from the comma list `DMR_SERVER_WEBSOCKET_URL`; the link
   * connects to one at a time and moves round-robin to the next on a failed connect or a lost connection.
   * The namespace is appended by the link.
   */
  readonly serverUrls: readonly string[];
  /** First reconnect delay, ms (`WEBSOCKET_RECONNECTION_DELAY`, default 1000). */
  readonly reconnectDelayMs: number;
  /** Reconnect delay cap, ms (`WEBSOCKET_RECONNECTION_DELAY_MAX`, default 5000). */
  readonly reconnectDelayMaxMs: number;
  /** How long a send waits for the server's ack, ms (`MESSAGE_DELIVERY_TIMEOUT_MS`, default 2000). */
  readonly ackTimeoutMs: number;
  /** TLS material (`DMR_TLS_CA_FILE`, `DMR_TLS_CERT_FILE`, `DMR_TLS_KEY_FILE`); absent only with `DMR_ALLOW_PLAINTEXT=true`. */
  readonly tls?: LinkTlsOptions;
  /** Cluster id of the DMR servers (`DMR_CLUSTER_ID`, default `dmr`): the `aud` of every handshake token. */
  readonly clusterId: string;
}

/** The HTTP API's slice. */
export interface HttpConfig {
  /** Bind address (`HOST`, default `0.0.0.0`). */
  readonly host: string;
  /** Port (`PORT`, default 5001; 0 picks a free port). */
  readonly port: number;
  /** Request body limit, bytes (`DMR_MAX_MESSAGE_BYTES`, default 262144). */
  readonly maxMessageBytes: number;
  /** Sends `POST /v1/messages` processes at once; more are refused with 503 DMR_LINK_BACKPRESSURE (`DMR_MAX_IN_FLIGHT_SENDS`, default 32). */
  readonly maxInFlightSends: number;
  /**
   * Above this event-loop delay (ms) `POST /v1/messages` is refused with 503 DMR_LINK_BACKPRESSURE: the agent is
   * CPU-bound and requests already wait unread (`DMR_MAX_EVENT_LOOP_DELAY_MS`, default 50; 0 turns it off).
   */
  readonly maxEventLoopDelayMs: number;
}

/** The inbound delivery slice. */
export interface DeliveryConfig {
  /** Where decrypted messages are POSTed (`OUTGOING_MESSAGE_ENDPOINT`). */
  readonly endpointUrl: string;
  /** Per-attempt timeout, ms (`OUTGOING_MESSAGE_TIMEOUT_MS`, default 5000). */
  readonly attemptTimeoutMs: number;
  /** Attempts per delivery including the first (`OUTGOING_MESSAGE_RETRIES`, default 3). */
  readonly attempts: number;
  /** Delivered message ids remembered for duplicate suppression (`DMR_DEDUP_WINDOW_SIZE`, default 100000). */
  readonly dedupWindowSize: number;
  /**
   * How long a chat waits for a failed message to be delivered again before later messages of the chat go ahead,
   * ms (`DMR_CHAT_ORDER_HOLD_MS`, default 45000; keep it above the server's `DMR_REDELIVERY_DELAY_MAX_MS`).
   */
  readonly chatOrderHoldMs: number;
  /** Accept payloads signed without metadata claims (`AGENT_ALLOW_UNBOUND_METADATA`, default false). */
  readonly allowUnboundMetadata: boolean;
}

/**
 * Which peer keys the agent trusts (issue 15 finding 4): certificates that chain to the DMR CA in `anchors` and name
 * the agent; bare keys only of `legacyAgentIds`; everything only with `allowUnverified`.
 */
export interface PeerTrustConfig extends PeerTrustPolicy {
  /**
   * The PEM file the anchors were read from (`DMR_PEER_CA_FILE`, default `DMR_TLS_CA_FILE`); undefined only with
   * `DMR_ALLOW_UNVERIFIED_PEER_KEYS=true` and no file.
   */
  readonly caFile?: string;
}

/** The whole agent configuration, parsed once and frozen. */
export interface AgentConfig {
  /** This agent's id (`AGENT_ID`). */
  readonly agentId: string;
  /** Free-form runtime environment name (`ENVIRONMENT`, default `development`), added to every log line. */
  readonly environment: string;
  /** pino threshold derived from `LOGGER_LOG_LEVELS` (default `error,warn,log` → `info`). */
  readonly logLevel: LogLevel;
  /** This agent's private key, imported once (`AGENT_PRIVATE_KEY` or `AGENT_PRIVATE_KEY_FILE`). */
  readonly privateKey: PrivateKeyRef;
  /** Upper bound for the graceful drain on stop, ms (`DMR_SHUTDOWN_TIMEOUT_MS`, default 10000). */
  readonly shutdownTimeoutMs: number;
  /**
   * How long one ECDH-ES ephemeral key serves messages to one recipient (P-256 keys), ms
   * (`DMR_ECDH_EPHEMERAL_REUSE_MS`, default 1000; 0 = a fresh ephemeral key for every message). See `EphemeralKeyReuse`.
   */
  readonly ephemeralKeyReuseMs: number;
  readonly http: HttpConfig;
  /** Plain-HTTP listener for health, readiness and metrics only (`DMR_OPS_HOST`, `DMR_OPS_PORT`); none when the port is unset. */
  readonly ops: OpsListenerConfig | undefined;
  readonly link: LinkConfig;
  readonly delivery: DeliveryConfig;
  readonly peerTrust: PeerTrustConfig;
  /** The file the private key was read from (`AGENT_PRIVATE_KEY_FILE`); undefined when it came inline. */
  readonly privateKeyFile: string | undefined;
  /** Issue 18: the TLS client certificate's files and how they are kept current; undefined without TLS material. */
  readonly certificates: AgentCertificatesConfig | undefined;
}

/** I/O the loader needs; injectable so parsing stays testable without files. */
export interface ConfigSources {
  readonly readFile: (path: string) => string;
}

const DEFAULT_SOURCES: ConfigSources = { readFile: (path) => readFileSync(path, 'utf8') };
const checkAgentId = compileValidator<string>(AgentId);
const MAX_TIMEOUT_MS = 10 * 60_000;
// a shared key-encryption key is exposed for its whole window if the sender's memory is read: keep windows short
const MAX_EPHEMERAL_REUSE_MS = 60_000;

/**
 * Reads every agent variable from `env`, collecting all problems first so an operator
 * fixes them in one go. Throws DMR_CONFIG_INVALID naming each bad variable.
 */
export function loadAgentConfig(env: Env, sources: ConfigSources = DEFAULT_SOURCES): AgentConfig {
  const reader = new EnvReader(env);
  const agentId = readAgentId(reader);
  const logLevel = readLogLevel(reader);
  const privateKey = readPrivateKey(reader, sources);
  const http = readHttp(reader);
  const ops = readOpsListener(reader, http.port);
  const { tls, certificates } = readLinkTls(reader, sources);
  const link = { ...readLink(reader), ...(tls ? { tls } : {}) };
  const delivery = readDelivery(reader);
  const peerTrust = readPeerTrust(reader, sources);
  const shutdownTimeoutMs = reader.int('DMR_SHUTDOWN_TIMEOUT_MS', { default: 10_000, min: 0, max: MAX_TIMEOUT_MS });
  const ephemeralKeyReuseMs = reader.int('DMR_ECDH_EPHEMERAL_REUSE_MS', { default: 1000, min: 0, max: MAX_EPHEMERAL_REUSE_MS });
  // LOGGER_COLORS is accepted for seed 003 compatibility; logs are always JSON, so its value does not matter.
  reader.optionalString('LOGGER_COLORS');
  const environment = reader.string('ENVIRONMENT', 'development');
  // finish() throws when any read above recorded a problem, so privateKey is set past this line.
  reader.finish();
  return deepFreeze({
    agentId,
    environment,
    logLevel,
    privateKey: privateKey as PrivateKeyRef,
    shutdownTimeoutMs,
    ephemeralKeyReuseMs,
    http,
    ops,
    link,
    delivery,
    peerTrust,
    privateKeyFile: reader.optionalString('AGENT_PRIVATE_KEY_FILE'),
    certificates,
  });
}

function readAgentId(reader: EnvReader): string {
  const agentId = reader.requiredString('AGENT_ID');
  if (agentId && !checkAgentId(agentId).ok) {
    reader.problem('AGENT_ID must be 1-128 letters, digits, "-" or "_" starting with a letter or digit');
  }
  return agentId;
}

function readLogLevel(reader: EnvReader): LogLevel {
  const raw = reader.string('LOGGER_LOG_LEVELS', 'error,warn,log');
  const level = parseLogLevels(raw);
  if (level === undefined) reader.problem(`LOGGER_LOG_LEVELS has an unknown level in "${raw}"`);
  return level ?? 'info';
}

function readPrivateKey(reader: EnvReader, sources: ConfigSources): PrivateKeyRef | undefined {
  const inline = reader.optionalString('AGENT_PRIVATE_KEY');
  const file = reader.optionalString('AGENT_PRIVATE_KEY_FILE');
  if (inline !== undefined && file !== undefined) {
    reader.problem('AGENT_PRIVATE_KEY and AGENT_PRIVATE_KEY_FILE are both set; set exactly one');
    return undefined;
  }
  if (inline === undefined && file === undefined) {
    reader.problem('AGENT_PRIVATE_KEY or AGENT_PRIVATE_KEY_FILE is required');
    return undefined;
  }
  const name = inline === undefined ? 'AGENT_PRIVATE_KEY_FILE' : 'AGENT_PRIVATE_KEY';
  const text = inline ?? readConfiguredFile(reader, sources.readFile, name, file as string);
  if (text === undefined) return undefined;
  try {
    return importPrivateKey(text);
  } catch (error) {
    reader.problem(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

function readHttp(reader: EnvReader): HttpConfig {
  return {
    host: reader.string('HOST', '0.0.0.0'),
    port: reader.int('PORT', { default: 5001, min: 0, max: 65_535 }),
    maxMessageBytes: reader.int('DMR_MAX_MESSAGE_BYTES', { default: 262_144, min: 1024, max: 64 * 1024 * 1024 }),
    // Little's law: 32 sends at a ~10 ms confirm sustain ~3000 msg/s, more than an agent's CPU seals; a larger window
    // only lets accepted work queue (measured at 2x overload: window 128, accepted p99 in seconds; window 32, 0.1 s)
    maxInFlightSends: reader.int('DMR_MAX_IN_FLIGHT_SENDS', { default: 32, min: 1, max: 100_000 }),
    maxEventLoopDelayMs: reader.int('DMR_MAX_EVENT_LOOP_DELAY_MS', { default: 50, min: 0, max: 60_000 }),
  };
}

function readLink(reader: EnvReader): LinkConfig {
  const serverUrls = readServerUrls(reader);
  const reconnectDelayMs = reader.int('WEBSOCKET_RECONNECTION_DELAY', { default: 1000, min: 1, max: MAX_TIMEOUT_MS });
  const reconnectDelayMaxMs = reader.int('WEBSOCKET_RECONNECTION_DELAY_MAX', { default: 5000, min: 1, max: MAX_TIMEOUT_MS });
  if (reconnectDelayMaxMs < reconnectDelayMs) {
    reader.problem(
      `WEBSOCKET_RECONNECTION_DELAY_MAX (${reconnectDelayMaxMs}) must be ≥ WEBSOCKET_RECONNECTION_DELAY (${reconnectDelayMs})`,
    );
  }
  const ackTimeoutMs = reader.int('MESSAGE_DELIVERY_TIMEOUT_MS', { default: 2000, min: 1, max: MAX_TIMEOUT_MS });
  const clusterId = reader.string('DMR_CLUSTER_ID', DEFAULT_CLUSTER_ID);
  if (!CLUSTER_ID_PATTERN.test(clusterId)) {
    reader.problem(`DMR_CLUSTER_ID must be 1-128 letters, digits, ".", "_", ":" or "-", got "${clusterId}"`);
  }
  return { serverUrls, reconnectDelayMs, reconnectDelayMaxMs, ackTimeoutMs, clusterId };
}

/** `DMR_SERVER_WEBSOCKET_URL`: one URL or a comma-separated list (failover order); each must be http(s) or ws(s). */
function readServerUrls(reader: EnvReader): string[] {
  const urls = (reader.optionalString('DMR_SERVER_WEBSOCKET_URL') ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  if (urls.length === 0) reader.problem('DMR_SERVER_WEBSOCKET_URL is required');
  for (const url of urls) {
    let protocol: string | undefined;
    try {
      protocol = new URL(url).protocol;
    } catch {
      reader.problem(`DMR_SERVER_WEBSOCKET_URL entry "${url}" is not a valid URL`);
      continue;
    }
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(protocol)) {
      reader.problem(`DMR_SERVER_WEBSOCKET_URL must use http:, https:, ws: or wss:, got "${protocol}" in "${url}"`);
    }
  }
  return urls;
}

function readDelivery(reader: EnvReader): DeliveryConfig {
  return {
    endpointUrl: reader.url('OUTGOING_MESSAGE_ENDPOINT', ['http:', 'https:']),
    attemptTimeoutMs: reader.int('OUTGOING_MESSAGE_TIMEOUT_MS', { default: 5000, min: 1, max: MAX_TIMEOUT_MS }),
    attempts: reader.int('OUTGOING_MESSAGE_RETRIES', { default: 3, min: 1, max: 100 }),
    dedupWindowSize: reader.int('DMR_DEDUP_WINDOW_SIZE', { default: 100_000, min: 1, max: 10_000_000 }),
    chatOrderHoldMs: reader.int('DMR_CHAT_ORDER_HOLD_MS', { default: 45_000, min: 0, max: MAX_TIMEOUT_MS }),
    allowUnboundMetadata: reader.bool('AGENT_ALLOW_UNBOUND_METADATA', false),
  };
}

/**
 * Secure by default: a peer key is trusted only through the CA in `DMR_PEER_CA_FILE` (default: the link's
 * `DMR_TLS_CA_FILE`), and without a CA the agent does not start unless `DMR_ALLOW_UNVERIFIED_PEER_KEYS=true`.
 */
function readPeerTrust(reader: EnvReader, sources: ConfigSources): PeerTrustConfig {
  const allowUnverified = reader.bool('DMR_ALLOW_UNVERIFIED_PEER_KEYS', false);
  const legacyAgentIds = readLegacyAgentIds(reader);
  const ownFile = reader.optionalString('DMR_PEER_CA_FILE');
  const caFile = ownFile ?? reader.optionalString('DMR_TLS_CA_FILE');
  const name = ownFile === undefined ? 'DMR_TLS_CA_FILE' : 'DMR_PEER_CA_FILE';
  if (caFile === undefined) {
    if (!allowUnverified) {
      reader.problem(
        'DMR_PEER_CA_FILE (or DMR_TLS_CA_FILE) is required: peer keys are trusted only as certificates from the DMR CA; DMR_ALLOW_UNVERIFIED_PEER_KEYS=true turns that off for local experiments',
      );
    }
    return { anchors: [], legacyAgentIds, allowUnverified };
  }
  try {
    return { anchors: parseTrustAnchors(sources.readFile(caFile)), legacyAgentIds, allowUnverified, caFile };
  } catch (error) {
    reader.problem(`${name} (${caFile}), the CA for peer keys: ${error instanceof Error ? error.message : String(error)}`);
    return { anchors: [], legacyAgentIds, allowUnverified };
  }
}

/** `DMR_LEGACY_AGENT_IDS`: comma-separated ids of seed-003 agents whose bare public keys are trusted (default none). */
function readLegacyAgentIds(reader: EnvReader): ReadonlySet<string> {
  const ids = (reader.optionalString('DMR_LEGACY_AGENT_IDS') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!checkAgentId(id).ok) reader.problem(`DMR_LEGACY_AGENT_IDS entry "${id.slice(0, 140)}" is not a valid agent id`);
  }
  return new Set(ids);
}

/** Freezes plain objects only: the imported KeyObject is an opaque native handle and stays as it is. */
function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object' && Object.getPrototypeOf(child) === Object.prototype) deepFreeze(child);
  }
  return Object.freeze(value);
}
