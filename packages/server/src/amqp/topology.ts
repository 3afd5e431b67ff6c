import { agentTopology, BASE_TOPOLOGY, declareTopology } from '@dmr/shared';
import type { Channel } from 'amqplib';

/** Declares the exchanges and the validation-failures queue with its exchange. Idempotent. */
export async function assertBaseTopology(channel: Channel): Promise<void> {
  await declareTopology(channel, BASE_TOPOLOGY);
}

/**
 * Declares an agent's inbox and DLQ with their bindings. Idempotent. TTL, dead-lettering and
 * the delivery limit come from policies, so they are not queue arguments here.
 */
export async function assertAgentQueues(channel: Channel, agentId: string): Promise<void> {
  await declareTopology(channel, agentTopology(agentId));
}
