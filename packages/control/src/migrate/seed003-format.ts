import {
  compileValidator,
  type DmrErrorCode,
  isDmrErrorCode,
  REASON_CODE_HEADER,
  REASON_HEADER,
  type WireMessageBody,
  WireMessageSchema,
} from '@dmr/shared';

/**
 * Seed 003's queue format, as assumed here (its server's code is not available): the body is the wire message JSON
 * `{id, timestamp, senderId, recipientId, type, payload}` its server received, possibly with `receivedAt` (which
 * its wire DTO declares optional) or other fields a server added; AMQP properties and headers are not relied on.
 * A dead-lettered message carries RabbitMQ's own `x-death` header when RabbitMQ dead-lettered it.
 */
export interface SourceMessage {
  readonly content: Buffer;
  readonly properties: { readonly messageId?: unknown; readonly headers?: Readonly<Record<string, unknown>> | undefined };
}

/** Where a converted message goes: the agent's inbox (`dmr.agent.<id>`) or its DLQ (`dmr.agent.<id>.dlq`). */
export type Destination = 'inbox' | 'dead-letters';

/** A message in DMR's queue format, ready to publish (the server's own properties: see message-router.ts). */
export interface ConvertedMessage {
  readonly destination: Destination;
  /** `moved`: a valid message to the inbox; `dead-letter`: a seed-003 dead letter; `invalid`: an unusable body, dead-lettered. */
  readonly outcome: 'moved' | 'dead-letter' | 'invalid';
  readonly content: Buffer;
  /** The wire id: kept, so the recipient's duplicate window and the endpoint's Idempotency-Key see a moved message as itself. */
  readonly messageId: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/** Header naming the seed-003 queue a message was moved from. */
export const MIGRATED_FROM_HEADER = 'x-dmr-migrated-from';
/** Header keeping seed 003's `receivedAt` of a moved message (audit only: the TTL starts again in DMR's queue). */
export const SEED003_RECEIVED_AT_HEADER = 'x-dmr-seed003-received-at';

const validateWire = compileValidator<WireMessageBody>(WireMessageSchema);
const WIRE_FIELDS = ['id', 'timestamp', 'senderId', 'recipientId', 'type', 'payload'] as const;
const MAX_TEXT_CHARS = 200;

type ReadWire = { ok: true; wire: WireMessageBody; receivedAt: string | undefined } | { ok: false; problem: string };

/**
 * Reads a seed-003 queued body as a DMR wire message: the six wire fields are kept and checked against the wire
 * schema; `receivedAt` and anything else a server added are dropped (DMR's agents refuse unknown fields, and nothing
 * else the body holds is vouched for). The recipient must be the queue's agent. Pure.
 */
export function readSeed003Wire(content: Buffer, agentId: string): ReadWire {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    return { ok: false, problem: 'body is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, problem: 'body is not a JSON object' };
  const record = parsed as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const field of WIRE_FIELDS) if (Object.hasOwn(record, field)) picked[field] = record[field];
  const checked = validateWire(picked);
  if (!checked.ok) {
    const fields = checked.errors.map((error) => `${error.path || '(body)'}: ${error.message}`).join('; ');
    return { ok: false, problem: `not a wire message (${fields.slice(0, MAX_TEXT_CHARS)})` };
  }
  if (checked.value.recipientId !== agentId) return { ok: false, problem: `recipientId names another agent than the queue's (${agentId})` };
  const receivedAt = typeof record.receivedAt === 'string' ? record.receivedAt.slice(0, 64) : undefined;
  // re-serialised in the schema's field order: exactly what DMR's server queues
  const wire = Object.fromEntries(WIRE_FIELDS.map((field) => [field, checked.value[field]])) as WireMessageBody;
  return { ok: true, wire, receivedAt };
}

/**
 * Converts a message waiting in seed 003's queue for `agentId`. A valid one goes to the inbox in DMR's format; an
 * unusable one to the DLQ with DMR_DELIVERY_INVALID_MESSAGE and its original bytes (nothing is dropped). Pure.
 */
export function convertQueued(message: SourceMessage, agentId: string, sourceQueue: string): ConvertedMessage {
  const read = readSeed003Wire(message.content, agentId);
  if (!read.ok) {
    return deadLetter(
      message,
      sourceQueue,
      'invalid',
      'DMR_DELIVERY_INVALID_MESSAGE',
      `moved from seed-003 queue ${sourceQueue}: ${read.problem}`,
    );
  }
  const headers: Record<string, string> = { 'x-dmr-sender': read.wire.senderId, [MIGRATED_FROM_HEADER]: sourceQueue };
  if (read.receivedAt !== undefined) headers[SEED003_RECEIVED_AT_HEADER] = read.receivedAt;
  return { destination: 'inbox', outcome: 'moved', content: Buffer.from(JSON.stringify(read.wire)), messageId: read.wire.id, headers };
}

/**
 * Converts a message from seed 003's dead-letter queue for `agentId`: to DMR's DLQ with DMR_MIGRATE_DEAD_LETTER and
 * a reason naming seed 003's (RabbitMQ's `x-death`), or the DMR code it already carries. A valid body is converted
 * like a queued one; an unusable one is kept as it is, and the reason says so. Pure.
 */
export function convertDeadLetter(message: SourceMessage, agentId: string, sourceQueue: string): ConvertedMessage {
  const headers = message.properties.headers ?? {};
  const existingCode = headers[REASON_CODE_HEADER];
  const code: DmrErrorCode = isDmrErrorCode(existingCode) ? existingCode : 'DMR_MIGRATE_DEAD_LETTER';
  const existingReason = typeof headers[REASON_HEADER] === 'string' ? (headers[REASON_HEADER] as string) : undefined;
  const why = existingReason ?? describeDeath(headers['x-death']);
  const read = readSeed003Wire(message.content, agentId);
  const reason = `${why}; moved from seed-003 queue ${sourceQueue}${read.ok ? '' : ` (body kept as found: ${read.problem})`}`;
  if (!read.ok) return deadLetter(message, sourceQueue, 'dead-letter', code, reason);
  const converted: Record<string, string> = {
    'x-dmr-sender': read.wire.senderId,
    [MIGRATED_FROM_HEADER]: sourceQueue,
    [REASON_CODE_HEADER]: code,
    [REASON_HEADER]: reason.slice(0, 1024),
  };
  if (read.receivedAt !== undefined) converted[SEED003_RECEIVED_AT_HEADER] = read.receivedAt;
  return {
    destination: 'dead-letters',
    outcome: 'dead-letter',
    content: Buffer.from(JSON.stringify(read.wire)),
    messageId: read.wire.id,
    headers: converted,
  };
}

function deadLetter(
  message: SourceMessage,
  sourceQueue: string,
  outcome: 'invalid' | 'dead-letter',
  code: DmrErrorCode,
  reason: string,
): ConvertedMessage {
  const messageId = typeof message.properties.messageId === 'string' ? message.properties.messageId.slice(0, 128) : undefined;
  return {
    destination: 'dead-letters',
    outcome,
    content: message.content,
    messageId,
    headers: { [MIGRATED_FROM_HEADER]: sourceQueue, [REASON_CODE_HEADER]: code, [REASON_HEADER]: reason.slice(0, 1024) },
  };
}

/** Seed 003's reason from RabbitMQ's `x-death` header (its first, most recent entry), bounded: the header is foreign input. */
export function describeDeath(xDeath: unknown): string {
  const first: unknown = Array.isArray(xDeath) ? xDeath[0] : undefined;
  if (typeof first !== 'object' || first === null) return 'found in a seed-003 dead-letter queue without a recorded reason';
  const entry = first as Record<string, unknown>;
  const parts = [
    ['reason', entry.reason],
    ['queue', entry.queue],
    ['count', entry.count],
  ].filter(([, value]) => typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint');
  const text = parts.map(([name, value]) => `${String(name)}=${String(value).slice(0, 128)}`).join(' ');
  return `dead-lettered by seed 003 (x-death ${text || 'without details'})`;
}
