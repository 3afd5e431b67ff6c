import { randomBytes } from 'node:crypto';
import { type RabbitNode, type StartRabbitNodeOptions, startRabbitNode } from './rabbit-node.js';

/** Options of {@link startRabbitCluster}. */
export interface StartRabbitClusterOptions {
  /** Prefix of the node names; node `i` (1-based) is `<prefix>-<i>@localhost`. Default `dmrtest-<random>`. */
  readonly namePrefix?: string;
  /** Enable the management plugin on every node. Default `false` (each node then starts ~1 s faster). */
  readonly management?: boolean;
  /** Absolute memory alarm threshold of each node. Default as {@link startRabbitNode}. */
  readonly memoryHighWatermark?: string;
}

/** A private RabbitMQ cluster started by {@link startRabbitCluster}. */
export interface RabbitCluster extends AsyncDisposable {
  /** The members, node 1 first; each keeps its own ports, data dir and `kill()`/`restart()`. */
  readonly nodes: readonly RabbitNode[];
  /** Administrator user, the same on every node (users are cluster-wide). */
  readonly user: string;
  /** Administrator password, the same on every node. */
  readonly password: string;
  /** Names of the nodes `rabbitmqctl cluster_status` reports running, as seen from `via` (default: the first running node). */
  runningNodes(via?: RabbitNode): Promise<string[]>;
  /** Stops every node and removes their data dirs. Idempotent (memoised); stops the other nodes even when one fails. */
  stop(): Promise<void>;
  /** Same as {@link RabbitCluster.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

const CTL_TIMEOUT_MS = 120_000;

/**
 * Starts `size` private RabbitMQ nodes on 127.0.0.1 and clusters them: they share one Erlang cookie
 * (written to each node's `HOME`) and one administrator password, node 1 boots first, and every other
 * node runs `stop_app`, `join_cluster <node 1>`, `start_app` (join resets the joining node, so it takes
 * the cluster's users). Each node has its own name, ports and data dir, so `kill()` and `restart()` of one
 * member work as for a single node; a restarted member rejoins from its data dir. Quorum queues declared
 * after this resolves get a member on every node. Nodes are stopped by name (`rabbitmqctl stop`).
 *
 * @throws Error when a node does not boot or join; the nodes already started are stopped first.
 */
export async function startRabbitCluster(size: number, options: StartRabbitClusterOptions = {}): Promise<RabbitCluster> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`cluster size must be a positive integer, got ${size}`);
  const prefix = options.namePrefix ?? `dmrtest-${randomBytes(4).toString('hex')}`;
  const shared: StartRabbitNodeOptions = {
    erlangCookie: randomBytes(20).toString('hex').toUpperCase(),
    password: randomBytes(16).toString('hex'),
    management: options.management ?? false,
    ...(options.memoryHighWatermark ? { memoryHighWatermark: options.memoryHighWatermark } : {}),
  };
  const nodes: RabbitNode[] = [];
  try {
    nodes.push(await startRabbitNode({ ...shared, name: `${prefix}-1` }));
    // The joiners boot in parallel (boot is mostly waiting); joins run one at a time, as RabbitMQ advises.
    const joiners = await startAll(
      Array.from({ length: size - 1 }, (_, index) => `${prefix}-${index + 2}`),
      shared,
      nodes,
    );
    for (const joiner of joiners) await joinCluster(joiner, nodes[0] as RabbitNode);
  } catch (error) {
    await stopAll(nodes).catch(() => undefined);
    throw error;
  }
  return new PrivateRabbitCluster(nodes, shared.password as string);
}

async function startAll(names: readonly string[], shared: StartRabbitNodeOptions, started: RabbitNode[]): Promise<RabbitNode[]> {
  const results = await Promise.allSettled(names.map((name) => startRabbitNode({ ...shared, name })));
  const nodes = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  started.push(...nodes);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
  return nodes;
}

async function joinCluster(node: RabbitNode, seed: RabbitNode): Promise<void> {
  await node.ctl(['stop_app'], { timeoutMs: CTL_TIMEOUT_MS });
  await node.ctl(['join_cluster', seed.nodeName], { timeoutMs: CTL_TIMEOUT_MS });
  await node.ctl(['start_app'], { timeoutMs: CTL_TIMEOUT_MS });
  await node.ctl(['await_startup'], { timeoutMs: CTL_TIMEOUT_MS });
}

async function stopAll(nodes: readonly RabbitNode[]): Promise<void> {
  const results = await Promise.allSettled(nodes.map((node) => node.stop()));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} cluster node(s) did not stop cleanly`);
}

class PrivateRabbitCluster implements RabbitCluster {
  readonly nodes: readonly RabbitNode[];
  readonly user: string;
  readonly password: string;
  #stopped: Promise<void> | undefined;

  constructor(nodes: readonly RabbitNode[], password: string) {
    this.nodes = nodes;
    this.user = (nodes[0] as RabbitNode).user;
    this.password = password;
  }

  async runningNodes(via?: RabbitNode): Promise<string[]> {
    const errors: unknown[] = [];
    for (const node of via ? [via] : this.nodes) {
      try {
        const status = JSON.parse(await node.ctl(['cluster_status', '--formatter', 'json'], { timeoutMs: 30_000 })) as {
          running_nodes?: string[];
        };
        return status.running_nodes ?? [];
      } catch (error) {
        errors.push(error);
      }
    }
    throw new AggregateError(errors, 'no cluster node answered cluster_status');
  }

  stop(): Promise<void> {
    this.#stopped ??= stopAll(this.nodes);
    return this.#stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
