import { join } from 'node:path';

/** Files and directories of one private RabbitMQ node, all inside `baseDir`. */
export interface NodeLayout {
  readonly baseDir: string;
  readonly configFile: string;
  readonly confDir: string;
  readonly advancedConfigFile: string;
  readonly envConfFile: string;
  readonly enabledPluginsFile: string;
  readonly cookieFile: string;
  readonly mnesiaBase: string;
  readonly logBase: string;
  readonly pidFile: string;
  /** stdout and stderr of `rabbitmq-server`, which is the node's whole log; appended to on every (re)start. */
  readonly startupLog: string;
  readonly crashDump: string;
}

/** TCP ports of one node; all bound to 127.0.0.1. */
export interface NodePorts {
  readonly amqp: number;
  readonly management: number;
  /** Erlang distribution port, used by `rabbitmqctl`. */
  readonly dist: number;
  /** Port of the `rabbitmq_prometheus` plugin's `/metrics` (on 127.0.0.1); absent: the plugin is not enabled. */
  readonly prometheus?: number;
}

/** Everything `buildNodeEnv` needs; no I/O involved. */
export interface NodeEnvInput {
  readonly layout: NodeLayout;
  /** Full Erlang node name, e.g. `dmrtest-1a2b@localhost`. */
  readonly nodeName: string;
  readonly ports: NodePorts;
  /** `PATH` for the scripts (they need `erl`); defaults to the usual system directories. */
  readonly path?: string | undefined;
  /**
   * TLS-only node: RABBITMQ_NODE_IP_ADDRESS/PORT are left out, because either one makes the scripts add a
   * plain listener (on 5672 when only the address is set) that would override `listeners.tcp = none`.
   */
  readonly isPlainListenerOff?: boolean;
}

/** Settings rendered into `rabbitmq.conf`. */
export interface RabbitConfInput {
  readonly ports: NodePorts;
  readonly user: string;
  readonly password: string;
  /** Absolute memory alarm threshold in RabbitMQ syntax, e.g. `1GiB`. */
  readonly memoryHighWatermark: string;
  /** `channel_max`; absent: RabbitMQ's default. */
  readonly channelMax?: number;
  readonly management: boolean;
  /** TLS-only AMQP on `ports.amqp` (plain listener off) with certificate login; absent: plain AMQP. */
  readonly tls?: NodeTlsFiles;
}

/** Files of a TLS-only node: AMQPS with peer verification and SASL EXTERNAL as the only mechanism. */
export interface NodeTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const LOOPBACK_DIST_ARGS = '-kernel inet_dist_use_interface {127,0,0,1}';
const PATH_VALUE_PATTERN = /^[A-Za-z0-9._@/-]+$/;
const WATERMARK_PATTERN = /^\d+(?:\.\d+)?[A-Za-z]{0,3}$/;
const CONF_VALUE_PATTERN = /^[A-Za-z0-9._@-]+$/;

/** Lays out a node's files under `baseDir` (pure: creates nothing). */
export function nodeLayout(baseDir: string): NodeLayout {
  return {
    baseDir,
    configFile: join(baseDir, 'rabbitmq.conf'),
    confDir: join(baseDir, 'conf.d'),
    advancedConfigFile: join(baseDir, 'advanced.config'),
    envConfFile: join(baseDir, 'rabbitmq-env.conf'),
    enabledPluginsFile: join(baseDir, 'enabled_plugins'),
    cookieFile: join(baseDir, '.erlang.cookie'),
    mnesiaBase: join(baseDir, 'mnesia'),
    logBase: join(baseDir, 'log'),
    pidFile: join(baseDir, 'rabbitmq.pid'),
    startupLog: join(baseDir, 'startup.log'),
    crashDump: join(baseDir, 'erl_crash.dump'),
  };
}

/**
 * Builds the complete environment for `rabbitmq-server` and every `rabbitmqctl`
 * call of one node. It is built from scratch rather than layered on the host
 * env, so a node never reads `/etc/rabbitmq` or the caller's `RABBITMQ_*`
 * settings. `RABBITMQ_BASE` is deliberately absent: it does nothing on Linux,
 * so each path is set on its own. `HOME` gives server and CLI the same cookie.
 */
export function buildNodeEnv(input: NodeEnvInput): Record<string, string> {
  const { layout, nodeName, ports } = input;
  return {
    PATH: input.path ?? FALLBACK_PATH,
    HOME: layout.baseDir,
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_CRASH_DUMP: layout.crashDump,
    RABBITMQ_NODENAME: nodeName,
    ...(input.isPlainListenerOff ? {} : { RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1', RABBITMQ_NODE_PORT: String(ports.amqp) }),
    RABBITMQ_DIST_PORT: String(ports.dist),
    RABBITMQ_MNESIA_BASE: layout.mnesiaBase,
    RABBITMQ_LOG_BASE: layout.logBase,
    RABBITMQ_PID_FILE: layout.pidFile,
    RABBITMQ_CONFIG_FILE: layout.configFile,
    RABBITMQ_CONFIG_FILES: layout.confDir,
    RABBITMQ_ADVANCED_CONFIG_FILE: layout.advancedConfigFile,
    RABBITMQ_CONF_ENV_FILE: layout.envConfFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: layout.enabledPluginsFile,
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: LOOPBACK_DIST_ARGS,
    // The CLI is a distributed Erlang node too; keep its listener off the network.
    RABBITMQ_CTL_ERL_ARGS: LOOPBACK_DIST_ARGS,
  };
}

/**
 * Renders `rabbitmq.conf`. Management keys are only written when the plugin is
 * enabled: without its schema RabbitMQ rejects them as unknown settings.
 *
 * @throws Error when a value could break out of its line (newlines, spaces).
 */
export function renderRabbitConf(input: RabbitConfInput): string {
  assertConfValue('user', input.user, CONF_VALUE_PATTERN);
  assertConfValue('password', input.password, CONF_VALUE_PATTERN);
  assertConfValue('memoryHighWatermark', input.memoryHighWatermark, WATERMARK_PATTERN);
  const lines = [
    ...(input.tls ? renderTlsListener(input.ports.amqp, input.tls) : [`listeners.tcp.default = 127.0.0.1:${input.ports.amqp}`]),
    `default_user = ${input.user}`,
    `default_pass = ${input.password}`,
    `vm_memory_high_watermark.absolute = ${input.memoryHighWatermark}`,
    ...(input.channelMax === undefined ? [] : [`channel_max = ${channelMaxOf(input.channelMax)}`]),
    // Log to stdout (the startup log) only: the log file handler writes with a
    // delay, so the boot watcher could miss `[error]` lines logged just before
    // boot completes (a bad watermark, for one, is logged and then ignored).
    'log.console = true',
    'log.console.level = info',
    'log.console.use_colors = off',
  ];
  if (input.management) {
    lines.push(`management.tcp.port = ${input.ports.management}`, 'management.tcp.ip = 127.0.0.1');
  }
  if (input.ports.prometheus !== undefined) {
    // never the plugin's default 15692 (shared by every node on the host); loopback only
    lines.push(`prometheus.tcp.port = ${input.ports.prometheus}`, 'prometheus.tcp.ip = 127.0.0.1');
  }
  return `${lines.join('\n')}\n`;
}

function channelMaxOf(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new Error(`channelMax must be an integer 1–65535, got ${value}`);
  return value;
}

/**
 * Renders the `enabled_plugins` Erlang term; certificate login needs `rabbitmq_auth_mechanism_ssl`, metrics for
 * Prometheus `rabbitmq_prometheus` (its port must then be in `rabbitmq.conf`, see {@link renderRabbitConf}).
 */
export function renderEnabledPlugins(management: boolean, tls = false, prometheus = false): string {
  const plugins = [
    ...(management ? ['rabbitmq_management'] : []),
    ...(tls ? ['rabbitmq_auth_mechanism_ssl'] : []),
    ...(prometheus ? ['rabbitmq_prometheus'] : []),
  ];
  return `[${plugins.join(',')}].\n`;
}

/** AMQPS only: plain listener off, peer certificate required, the certificate CN is the user, EXTERNAL only. */
function renderTlsListener(port: number, tls: NodeTlsFiles): string[] {
  for (const [name, value] of Object.entries(tls)) assertConfValue(name, value, PATH_VALUE_PATTERN);
  return [
    'listeners.tcp = none',
    `listeners.ssl.default = 127.0.0.1:${port}`,
    `ssl_options.cacertfile = ${tls.caFile}`,
    `ssl_options.certfile = ${tls.certFile}`,
    `ssl_options.keyfile = ${tls.keyFile}`,
    'ssl_options.verify = verify_peer',
    'ssl_options.fail_if_no_peer_cert = true',
    'ssl_options.versions.1 = tlsv1.3',
    'ssl_options.versions.2 = tlsv1.2',
    'ssl_cert_login_from = common_name',
    'auth_mechanisms.1 = EXTERNAL',
  ];
}

function assertConfValue(name: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) {
    throw new Error(`Invalid ${name} for rabbitmq.conf: ${JSON.stringify(value)}`);
  }
}
