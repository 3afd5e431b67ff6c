import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePorts } from './free-port.js';
import { readHostEnv } from './host-env.js';
import {
  buildNodeEnv,
  type NodeLayout,
  type NodePorts,
  type NodeTlsFiles,
  nodeLayout,
  renderEnabledPlugins,
  renderRabbitConf,
} from './node-env.js';
import { amqpUrlFor, managementUrlFor, type RabbitNodeInfo } from './node-info.js';
import {
  killNodeVm,
  killServerGroup,
  markLog,
  type NodeRuntime,
  runCtl,
  type ServerProcess,
  spawnServer,
  stopServer,
  waitForBoot,
} from './rabbit-process.js';
import { locateRabbitSbin } from './rabbit-sbin.js';

/** Options of {@link startRabbitNode}. */
export interface StartRabbitNodeOptions {
  /** Erlang node name; `@localhost` is appended when it has no host. Default `dmrtest-<random>@localhost`. */
  readonly name?: string;
  /** Directory for config, data, logs and pid file. Default: a fresh `mkdtemp` under `os.tmpdir()`, removed by `stop()`. */
  readonly baseDir?: string;
  /** Enable the management plugin (HTTP API on `managementPort`). Default `true`; costs ~1 s start and ~5 s stop. */
  readonly management?: boolean;
  /** Absolute memory alarm threshold in RabbitMQ syntax. Default `'1GiB'`. */
  readonly memoryHighWatermark?: string;
  /** Highest channel number a client may open on one connection (`channel_max`). Default: RabbitMQ's (2047). */
  readonly channelMax?: number;
  /** TLS-only AMQP (`amqpPort` is then the AMQPS port; no plain listener) with SASL EXTERNAL as the only AMQP login. */
  readonly tls?: NodeTlsFiles;
  /** Erlang cookie; nodes that share it can form a cluster (see `startRabbitCluster`). Default: random per node. */
  readonly erlangCookie?: string;
  /** Administrator password. Default: random per node. A node that joins a cluster takes the cluster's users instead. */
  readonly password?: string;
  /**
   * Enable the `rabbitmq_prometheus` plugin on a free 127.0.0.1 port (`prometheusPort`; `/metrics`,
   * `/metrics/detailed`, `/metrics/per-object`). Default `false`.
   */
  readonly prometheus?: boolean;
}

/** A private RabbitMQ node started by {@link startRabbitNode}. */
export interface RabbitNode extends RabbitNodeInfo, AsyncDisposable {
  /** Directory holding the node's config, data (`mnesia/`), logs and pid file. */
  readonly baseDir: string;
  /** Whether the management plugin is enabled. */
  readonly management: boolean;
  /** Port of the `rabbitmq_prometheus` plugin on 127.0.0.1, when started with `prometheus: true`. */
  readonly prometheusPort: number | undefined;
  /** `http://user:pass@127.0.0.1:<managementPort>`; global `fetch` refuses credentials in URLs, see `managementApiBaseFor`. */
  readonly managementUrl: string;
  /** AMQP URL for `vhost` (default `/`, percent-encoded). */
  amqpUrl(vhost?: string): string;
  /** Stops the node (`rabbitmqctl stop`) and removes `baseDir` if this node created it. Idempotent: returns one memoised promise. */
  stop(): Promise<void>;
  /** SIGKILLs the node's Erlang VM (pid from the pid file), like a crash; resolves once it is gone. `restart()` brings it back. */
  kill(): Promise<void>;
  /** Stops the node (if running) and starts it again on the same ports, name and data dir; durable data survives. */
  restart(): Promise<void>;
  /** Runs `rabbitmqctl -n <node> ...args` with the node's environment and returns its stdout. */
  ctl(args: readonly string[], options?: { timeoutMs?: number }): Promise<string>;
  /** Same as {@link RabbitNode.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Administrator user name of every test node. */
export const DEFAULT_NODE_USER = 'dmrtest';
/** Default absolute memory alarm threshold (keeps CI machines safe). */
export const DEFAULT_MEMORY_HIGH_WATERMARK = '1GiB';

const NODE_NAME_PATTERN = /^[A-Za-z0-9_-]+@[A-Za-z0-9_.-]+$/;

/**
 * Resolves the node name: `name` as given, with `@localhost` appended when it
 * has no host part, or `dmrtest-<suffix>@localhost` when absent.
 *
 * @throws Error when the name is not a valid short Erlang node name.
 */
export function resolveNodeName(name: string | undefined, randomSuffix: string): string {
  const full = name === undefined ? `dmrtest-${randomSuffix}@localhost` : name.includes('@') ? name : `${name}@localhost`;
  if (!NODE_NAME_PATTERN.test(full)) throw new Error(`Invalid RabbitMQ node name: ${JSON.stringify(full)}`);
  return full;
}

/**
 * Starts a private RabbitMQ node as the calling user, on free 127.0.0.1 ports,
 * with its own config, data and logs under `baseDir`, and waits until it
 * accepts connections (up to 90 s). Fails fast, with the tail of the startup
 * log, when the node exits or logs `[error]` while starting. Takes ~5 s with
 * management on this class of machine. Never touches a system RabbitMQ.
 *
 * @throws Error when RabbitMQ is not installed (run `scripts/ensure-rabbitmq.sh`) or the node does not boot.
 */
export async function startRabbitNode(options: StartRabbitNodeOptions = {}): Promise<RabbitNode> {
  const host = readHostEnv();
  const sbin = await locateRabbitSbin(host);
  const nodeName = resolveNodeName(options.name, randomBytes(5).toString('hex'));
  const ownsBaseDir = options.baseDir === undefined;
  const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), 'dmrtest-')));
  try {
    const ports = await pickNodePorts(options.prometheus === true);
    const password = options.password ?? randomBytes(16).toString('hex');
    const management = options.management ?? true;
    const layout = nodeLayout(baseDir);
    const conf = renderRabbitConf({
      ports,
      user: DEFAULT_NODE_USER,
      password,
      management,
      memoryHighWatermark: options.memoryHighWatermark ?? DEFAULT_MEMORY_HIGH_WATERMARK,
      ...(options.channelMax === undefined ? {} : { channelMax: options.channelMax }),
      ...(options.tls ? { tls: options.tls } : {}),
    });
    await writeNodeFiles(
      layout,
      conf,
      renderEnabledPlugins(management, options.tls !== undefined, options.prometheus === true),
      options.erlangCookie,
    );
    const env = buildNodeEnv({ layout, nodeName, ports, path: host.path, isPlainListenerOff: options.tls !== undefined });
    const rt: NodeRuntime = { sbin, nodeName, layout, env };
    const server = await bootServer(rt);
    return new PrivateRabbitNode(rt, server, { ports, password, management, ownsBaseDir });
  } catch (error) {
    if (ownsBaseDir) await rm(baseDir, { recursive: true, force: true });
    throw error;
  }
}

async function pickNodePorts(prometheus: boolean): Promise<NodePorts> {
  const [amqp, management, dist, metrics] = await findFreePorts(prometheus ? 4 : 3);
  if (amqp === undefined || management === undefined || dist === undefined) throw new Error('Could not find free ports');
  return { amqp, management, dist, ...(metrics === undefined ? {} : { prometheus: metrics }) };
}

async function writeNodeFiles(layout: NodeLayout, conf: string, enabledPlugins: string, cookie: string | undefined): Promise<void> {
  await Promise.all([layout.confDir, layout.logBase, layout.mnesiaBase].map((dir) => mkdir(dir, { recursive: true })));
  await Promise.all([
    writeFile(layout.configFile, conf),
    writeFile(layout.enabledPluginsFile, enabledPlugins),
    writeFile(layout.advancedConfigFile, '[].\n'),
    writeFile(layout.envConfFile, ''),
    writeCookie(layout.cookieFile, cookie),
  ]);
}

// Written up front: otherwise server and CLI race to create different cookies.
// Kept when present so a reused baseDir keeps talking to its own node.
async function writeCookie(path: string, cookie: string | undefined): Promise<void> {
  try {
    await writeFile(path, cookie ?? randomBytes(20).toString('hex').toUpperCase(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

async function bootServer(rt: NodeRuntime): Promise<ServerProcess> {
  const mark = await markLog(rt);
  const server = await spawnServer(rt);
  try {
    await waitForBoot(rt, server, mark);
    return server;
  } catch (error) {
    // The node may still be half up (e.g. logged a bind error); take down the group we started.
    await killServerGroup(server).catch((killError: unknown) => {
      throw new AggregateError([error, killError], `${(error as Error).message}\nand the node could not be killed`);
    });
    throw error;
  }
}

type NodeState = 'running' | 'down' | 'stopped';

interface NodeSettings {
  readonly ports: NodePorts;
  readonly password: string;
  readonly management: boolean;
  readonly ownsBaseDir: boolean;
}

class PrivateRabbitNode implements RabbitNode {
  readonly nodeName: string;
  readonly amqpPort: number;
  readonly managementPort: number;
  readonly user = DEFAULT_NODE_USER;
  readonly password: string;
  readonly baseDir: string;
  readonly management: boolean;
  readonly prometheusPort: number | undefined;
  readonly #rt: NodeRuntime;
  readonly #ownsBaseDir: boolean;
  #server: ServerProcess;
  #state: NodeState = 'running';
  #queue: Promise<unknown> = Promise.resolve();
  #stopped: Promise<void> | undefined;

  constructor(rt: NodeRuntime, server: ServerProcess, settings: NodeSettings) {
    this.#rt = rt;
    this.#server = server;
    this.#ownsBaseDir = settings.ownsBaseDir;
    this.nodeName = rt.nodeName;
    this.baseDir = rt.layout.baseDir;
    this.amqpPort = settings.ports.amqp;
    this.managementPort = settings.ports.management;
    this.password = settings.password;
    this.management = settings.management;
    this.prometheusPort = settings.ports.prometheus;
  }

  get managementUrl(): string {
    return managementUrlFor(this);
  }

  amqpUrl(vhost = '/'): string {
    return amqpUrlFor(this, vhost);
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#serial(() => this.#shutdown());
    return this.#stopped;
  }

  kill(): Promise<void> {
    return this.#serial(async () => {
      this.#assertNotStopped('kill');
      await killNodeVm(this.#rt, this.#server);
      this.#state = 'down';
    });
  }

  restart(): Promise<void> {
    return this.#serial(async () => {
      this.#assertNotStopped('restart');
      if (this.#state === 'running') await stopServer(this.#rt, this.#server);
      this.#state = 'down';
      this.#server = await bootServer(this.#rt);
      this.#state = 'running';
    });
  }

  ctl(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
    return runCtl(this.#rt, args, options);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #shutdown(): Promise<void> {
    let failure: unknown;
    try {
      if (this.#state === 'running') await stopServer(this.#rt, this.#server);
    } catch (error) {
      failure = error;
      await killServerGroup(this.#server);
    } finally {
      this.#state = 'stopped';
      if (this.#ownsBaseDir) await rm(this.baseDir, { recursive: true, force: true });
    }
    if (failure !== undefined) {
      throw new Error(`RabbitMQ node ${this.nodeName} did not stop cleanly and was killed`, { cause: failure });
    }
  }

  // Lifecycle calls run one at a time, so stop() waits for an in-flight restart().
  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #assertNotStopped(operation: string): void {
    if (this.#state === 'stopped') {
      throw new Error(`Cannot ${operation} RabbitMQ node ${this.nodeName}: it is stopped`);
    }
  }
}
