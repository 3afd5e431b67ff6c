import type { BrokerSetup } from './broker-connection.js';
import type { PolicyApplier } from './policy-applier.js';
import type { AgentQueuePreparer } from './queue-preparer.js';
import { assertBaseTopology } from './topology.js';

/** What the connect set-up needs. */
export interface BrokerSetupParts {
  /** Absent when RABBITMQ_APPLY_POLICIES=false. */
  readonly policies: Pick<PolicyApplier, 'request'> | undefined;
  readonly queues: Pick<AgentQueuePreparer, 'prepareAll'>;
  /** The registered agents at connect time. */
  readonly agentIds: () => readonly string[];
}

/**
 * The set-up run on every AMQP (re)connect: asks for the policies in the background (the management API is never
 * on the data path's recovery), asserts the shared topology (its failure fails the connect: nothing works without
 * it), then every agent's queues one by one, where a refused agent costs only itself.
 */
export function createBrokerSetup(parts: BrokerSetupParts): BrokerSetup {
  return async (openChannel) => {
    // Requested first so that, usually, queues declared below already start with the policies. A new policy applied
    // after thousands of queues exist makes RabbitMQ re-apply it to each, and the management call can outlive its
    // 10 s timeout (bench/, 5000 agents): the applier then retries, while the data path is already up.
    parts.policies?.request();
    const channel = await openChannel();
    try {
      await assertBaseTopology(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
    await parts.queues.prepareAll(parts.agentIds(), openChannel);
  };
}
