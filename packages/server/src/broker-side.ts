import { buildPolicies, type Logger } from '@dmr/shared';
import {
  AgentQueuePreparer,
  applyPoliciesAnywhere,
  BrokerConnection,
  createBrokerSetup,
  guardRecipientQueues,
  PolicyApplier,
  type Publisher,
} from './amqp/index.js';
import type { ServerConfig } from './config/index.js';
import type { ServerMetrics } from './obs/index.js';
import type { RegistryDiff } from './registry/index.js';

/** The server's RabbitMQ side: the connection, per-agent queue preparation and background policies. */
export interface BrokerSide {
  readonly broker: BrokerConnection;
  readonly queues: AgentQueuePreparer;
  readonly policies: PolicyApplier | undefined;
  /** The publisher the router uses: refuses messages to agents whose queues are not declared. */
  readonly publisher: Publisher;
  /** The registry's `prepare` hook: declares added agents' queues, forgets removed ones. Never throws. */
  prepareRegistryChange(diff: RegistryDiff): Promise<void>;
  /** True while publishes can succeed: connected and not blocked by a resource alarm. */
  isPublishing(): boolean;
  /** Readiness details: `publishing`, `queues` (naming unprepared agents) and `policies`. */
  readinessChecks(): Record<string, string>;
  /** Stops the retry loops (the connection is stopped by the caller, in its shutdown order). */
  stopRetries(): Promise<void>;
}

/**
 * Wires the RabbitMQ side of dmr-server. `agentIds` is read at each connect (the registry is built after this).
 * The connect set-up never waits for the management API, and one refused queue costs only its agent.
 */
export function createBrokerSide(config: ServerConfig, metrics: ServerMetrics, log: Logger, agentIds: () => readonly string[]): BrokerSide {
  const amqpLog = log.child({ component: 'amqp' });
  const backoff = { initialDelayMs: config.broker.reconnectIntervalMs, maxDelayMs: config.broker.reconnectIntervalMaxMs };
  const queues: AgentQueuePreparer = new AgentQueuePreparer({
    openChannel: () => broker.openChannel(),
    isConnected: () => broker.isConnected,
    backoff,
    metrics: { unpreparedAgents: metrics.brokerUnpreparedAgents, prepareFailures: metrics.brokerQueuePrepareFailuresTotal },
    log: amqpLog,
  });
  const policies = config.broker.applyPolicies
    ? new PolicyApplier({
        apply: (signal) =>
          applyPoliciesAnywhere(config.broker.managementUris, managementTarget(config), buildPolicies(config.policies), signal),
        backoff,
        metrics: { applied: metrics.brokerPoliciesApplied, failures: metrics.brokerPolicyFailuresTotal },
        log: amqpLog,
      })
    : undefined;
  const broker = new BrokerConnection(config.broker, createBrokerSetup({ policies, queues, agentIds }), amqpLog);
  broker.on('connected', () => metrics.brokerConnected.set(1));
  broker.on('disconnected', () => metrics.brokerConnected.set(0));
  broker.on('blocked', () => metrics.brokerBlocked.set(1));
  broker.on('unblocked', () => metrics.brokerBlocked.set(0));
  return {
    broker,
    queues,
    policies,
    publisher: guardRecipientQueues(broker, queues),
    prepareRegistryChange: async (diff) => {
      queues.forget(diff.removed.map((agent) => agent.id));
      await queues.prepare(diff.added.map((agent) => agent.info.id));
    },
    isPublishing: () => broker.isConnected && broker.blockedReason === undefined,
    readinessChecks: () => ({
      publishing: broker.blockedReason === undefined ? 'open' : `blocked: ${broker.blockedReason}`,
      queues: queues.describe(),
      policies: policies?.describe() ?? 'off',
    }),
    stopRetries: async () => {
      await Promise.all([queues.stop(), policies?.stop()]);
    },
  };
}

function managementTarget(config: ServerConfig) {
  return { user: config.broker.user, password: config.broker.password, vhost: config.broker.vhost };
}
