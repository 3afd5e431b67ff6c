import { type DeliveryAck, isTransientCode } from '@dmr/shared';

/** What to do with a RabbitMQ delivery after the agent answered (or did not). */
export type DeliveryDecision =
  | { readonly action: 'ack' }
  | { readonly action: 'retry'; readonly code: string; readonly reason: string }
  | { readonly action: 'dead-letter'; readonly code: string; readonly reason: string };

/**
 * Pure decision: ack on `ok`; dead-letter at once when every error is permanent (redelivery cannot help,
 * e.g. a bad signature); otherwise retry (the caller delivers the same message again after a pause, without
 * giving it back to RabbitMQ), unless this was the last attempt the delivery limit allows, in which case DMR
 * dead-letters itself so the DLQ copy carries the reason.
 * `deliveryCount` is the number of earlier attempts: RabbitMQ's `x-delivery-count` plus this server's retries.
 */
export function decideDelivery(reply: DeliveryAck | { timeout: true }, deliveryCount: number, deliveryLimit: number): DeliveryDecision {
  if ('timeout' in reply)
    return withLimit('DMR_ROUTE_ACK_TIMEOUT', 'recipient agent did not acknowledge in time', deliveryCount, deliveryLimit);
  if (reply.status === 'ok') return { action: 'ack' };
  const errors = reply.errors?.length ? reply.errors : [{ type: 'DMR_INTERNAL_ERROR', message: 'agent reported an error without details' }];
  const reason = errors.map((error) => `${error.type}: ${error.message}`).join('; ');
  const code = errors[0]?.type ?? 'DMR_INTERNAL_ERROR';
  if (errors.every((error) => !isTransientCode(error.type))) return { action: 'dead-letter', code, reason };
  return withLimit(code, reason, deliveryCount, deliveryLimit);
}

function withLimit(code: string, reason: string, deliveryCount: number, deliveryLimit: number): DeliveryDecision {
  if (deliveryLimit > 0 && deliveryCount + 1 >= deliveryLimit) {
    return { action: 'dead-letter', code, reason: `delivery limit ${deliveryLimit} reached; last failure: ${reason}` };
  }
  return { action: 'retry', code, reason };
}
