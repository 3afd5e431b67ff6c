import {
  AGENT_QUEUE_ARGUMENTS,
  agentDeadLetterQueueName,
  agentQueueName,
  DEAD_LETTER_EXCHANGE,
  MESSAGES_EXCHANGE,
  PLAIN_QUORUM_ARGUMENTS,
  VALIDATION_FAILURES_EXCHANGE,
  VALIDATION_FAILURES_QUEUE,
} from '@dmr/shared';
import type { Channel } from 'amqplib';

/** Declares the exchanges and the validation-failures queue with its exchange. Idempotent. */
export async function assertBaseTopology(channel: Channel): Promise<void> {
  await channel.assertExchange(MESSAGES_EXCHANGE, 'direct', { durable: true });
  await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
  await channel.assertExchange(VALIDATION_FAILURES_EXCHANGE, 'fanout', { durable: true });
  await channel.assertQueue(VALIDATION_FAILURES_QUEUE, { durable: true, arguments: PLAIN_QUORUM_ARGUMENTS });
  await channel.bindQueue(VALIDATION_FAILURES_QUEUE, VALIDATION_FAILURES_EXCHANGE, '');
}

/**
 * Declares an agent's inbox and DLQ with their bindings. Idempotent. TTL, dead-lettering and
 * the delivery limit come from policies, so they are not queue arguments here.
 */
export async function assertAgentQueues(channel: Channel, agentId: string): Promise<void> {
  const inbox = agentQueueName(agentId);
  const deadLetters = agentDeadLetterQueueName(agentId);
  await channel.assertQueue(inbox, { durable: true, arguments: AGENT_QUEUE_ARGUMENTS });
  await channel.bindQueue(inbox, MESSAGES_EXCHANGE, agentId);
  await channel.assertQueue(deadLetters, { durable: true, arguments: PLAIN_QUORUM_ARGUMENTS });
  await channel.bindQueue(deadLetters, DEAD_LETTER_EXCHANGE, agentId);
}
