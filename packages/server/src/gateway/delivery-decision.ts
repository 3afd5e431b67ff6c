import { codeOfAckError, type DeliveryAck, type DeliveryAckError, type DmrErrorCode, isTransientCode, labelOfAckError } from '@dmr/shared';

/** What to do with a RabbitMQ delivery after the agent answered (or did not). */
export type DeliveryDecision =
  | { readonly action: 'ack' }
  /** `isAttempt`: whether the retry spends one attempt of the delivery limit (an unanswered delivery does not). */
  | { readonly action: 'retry'; readonly code: string; readonly reason: string; readonly isAttempt: boolean }
  | { readonly action: 'dead-letter'; readonly code: string; readonly reason: string };

/** How long a delivery has been waiting, for the ack-timeout decision. */
export interface DeliveryAge {
  /** Since the message was published, ms. */
  readonly ageMs: number;
  /** The message TTL, ms (`RABBITMQ_DEFAULT_TTL`); 0 = none. */
  readonly ttlMs: number;
  /** How long past the TTL an unanswered delivery still waits, ms (an agent enforcing deadlines may be ending a post). */
  readonly graceMs?: number;
}

/**
 * Pure decision: ack on `ok`; dead-letter at once when every error is permanent (redelivery cannot help,
 * e.g. a bad signature, or seed 003's DECRYPTION_FAILED). Each error's code is its `code` when that is a catalog code,
 * else what its `type` stands for (`codeOfAckError`): a DMR code as it is, seed 003's DECRYPTION_FAILED as
 * DMR_CRYPTO_DECRYPT_FAILED (permanent) and DELIVERY_FAILED as DMR_DELIVERY_ENDPOINT_FAILED (transient), anything
 * else DMR_DELIVERY_UNKNOWN_ERROR (transient, so it is retried up to the limit and never dropped); otherwise retry (the caller delivers the same message again after a pause, without
 * giving it back to RabbitMQ), unless this was the last attempt the delivery limit allows, in which case DMR
 * dead-letters itself so the DLQ copy carries the reason.
 * `deliveryCount` is the number of earlier failed attempts of this holding (this server's retries in place). RabbitMQ's
 * `x-delivery-count` is not part of it: DMR never requeues, so that header counts only the times the message went
 * back to the queue because a server, agent or connection ended while holding it (restarts), which RabbitMQ's own
 * `delivery-limit` (`RABBITMQ_RETURN_LIMIT`) bounds. A refusal with DMR_LIFECYCLE_SHUTTING_DOWN is not an attempt.
 *
 * No answer within the ack timeout is not a failed attempt when `age` is given: the recipient agent may hold
 * the message on purpose (behind an earlier message of its chat), and a re-emitted delivery joins the one in
 * progress there. It is retried without spending the delivery limit, and dead-lettered once older than the
 * message TTL, as RabbitMQ would have done had it stayed in the queue.
 */
export function decideDelivery(
  reply: ParsedAck | { timeout: true },
  deliveryCount: number,
  deliveryLimit: number,
  age?: DeliveryAge,
): DeliveryDecision {
  if ('timeout' in reply) return decideTimeout(deliveryCount, deliveryLimit, age);
  if ('invalid' in reply)
    return withLimit('DMR_DELIVERY_INVALID_ACK', `recipient agent sent a malformed ack: ${reply.invalid}`, deliveryCount, deliveryLimit);
  if (reply.status === 'ok') return { action: 'ack' };
  const errors: readonly DeliveryAckError[] = reply.errors?.length
    ? reply.errors
    : [{ type: 'DMR_INTERNAL_ERROR', message: 'agent reported an error without details' }];
  const reason = errors.map((error) => `${labelOfAckError(error)}: ${error.message}`).join('; ');
  // the agent's DMR code first, else the code its (older DMR or seed-003) type stands for (issue 16)
  const codes = errors.map(codeOfAckError);
  const code = codes[0] ?? 'DMR_INTERNAL_ERROR';
  // a stopping agent refuses what it can no longer deliver: a routine restart, not a failed attempt (issue 15, finding 11)
  if (codes.every((each) => each === SHUTTING_DOWN)) return { action: 'retry', code, reason, isAttempt: false };
  if (codes.every((each) => !isTransientCode(each))) return { action: 'dead-letter', code, reason };
  return withLimit(code, reason, deliveryCount, deliveryLimit);
}

/** An agent's ack as {@link parseDeliveryAck} read it: a well-formed {@link DeliveryAck}, or why it is not one. */
export type ParsedAck = DeliveryAck | { readonly invalid: string };

/** How much of an agent's `errors[]` is kept: enough for the reason line, bounded whatever the agent sends. */
const MAX_ACK_ERRORS = 8;
const MAX_ERROR_TYPE_CHARS = 64;
const MAX_ERROR_MESSAGE_CHARS = 256;

/**
 * Reads the untrusted ack of a `message-from-dmr-server` delivery (whatever the agent passed to its ack callback,
 * `undefined` when it passed nothing). Pure, never throws. `{status:'ok'}` (other fields ignored) and
 * `{status:'error', errors?:[{type:string, message?:string, code?:string}]}` are well formed; error types and messages are cut
 * to bounded lengths and at most {@link MAX_ACK_ERRORS} are kept. Anything else is `{invalid}`, which
 * {@link decideDelivery} counts as a failed attempt with the transient code DMR_DELIVERY_INVALID_ACK: the message
 * is delivered again (the agent may recover) until the delivery limit dead-letters it, so nothing is lost and a
 * broken agent cannot hold a message forever.
 */
export function parseDeliveryAck(raw: unknown): ParsedAck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { invalid: `ack is ${describeType(raw)}, not an object` };
  const record = raw as Record<string, unknown>;
  const status = Object.hasOwn(record, 'status') ? record.status : undefined;
  if (status === 'ok') return { status: 'ok' };
  if (status !== 'error') return { invalid: 'status is neither "ok" nor "error"' };
  const errors = Object.hasOwn(record, 'errors') ? record.errors : undefined;
  if (errors === undefined || errors === null) return { status: 'error' };
  if (!Array.isArray(errors)) return { invalid: `errors is ${describeType(errors)}, not an array` };
  const parsed: DeliveryAckError[] = [];
  for (const entry of errors.slice(0, MAX_ACK_ERRORS)) {
    if (typeof entry !== 'object' || entry === null || typeof entry.type !== 'string' || entry.type === '') {
      return { invalid: 'an entry of errors has no string type' };
    }
    const message = typeof entry.message === 'string' ? entry.message : '';
    const type = entry.type.slice(0, MAX_ERROR_TYPE_CHARS);
    // issue 16: DMR agents put their DMR code beside seed 003's type; kept only as a string, read by codeOfAckError
    const code = typeof entry.code === 'string' && entry.code !== '' ? { code: entry.code.slice(0, MAX_ERROR_TYPE_CHARS) } : {};
    parsed.push({ type, message: message.slice(0, MAX_ERROR_MESSAGE_CHARS), ...code });
  }
  return { status: 'error', errors: parsed };
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'undefined' ? 'missing' : `a ${typeof value}`;
}

const SHUTTING_DOWN: DmrErrorCode = 'DMR_LIFECYCLE_SHUTTING_DOWN';

function decideTimeout(deliveryCount: number, deliveryLimit: number, age: DeliveryAge | undefined): DeliveryDecision {
  const code = 'DMR_ROUTE_ACK_TIMEOUT';
  if (!age) return withLimit(code, 'recipient agent did not acknowledge in time', deliveryCount, deliveryLimit);
  if (age.ttlMs > 0 && age.ageMs >= age.ttlMs + (age.graceMs ?? 0)) {
    return { action: 'dead-letter', code, reason: `recipient agent did not acknowledge within the message TTL (${age.ttlMs} ms)` };
  }
  return { action: 'retry', code, reason: 'recipient agent did not acknowledge in time; delivering again', isAttempt: false };
}

function withLimit(code: string, reason: string, deliveryCount: number, deliveryLimit: number): DeliveryDecision {
  if (deliveryLimit > 0 && deliveryCount + 1 >= deliveryLimit) {
    return { action: 'dead-letter', code, reason: `delivery limit ${deliveryLimit} reached; last failure: ${reason}` };
  }
  return { action: 'retry', code, reason, isAttempt: true };
}
