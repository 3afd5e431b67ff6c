import { compileValidator, type Refusal, type Result, refuse, type WireMessageBody, WireMessageSchema } from '@dmr/shared';

/** What the validator needs to know about the sending socket and the registry. */
export interface InboundContext {
  readonly authenticatedAgentId: string;
  readonly isKnownAgent: (agentId: string) => boolean;
  /** True for an agent the control plane disabled (issue 18): refused with its own code, not as unknown. */
  readonly isDisabledAgent?: (agentId: string) => boolean;
  readonly maxMessageBytes: number;
}

/** An accepted message with its serialised form, so it is encoded once. */
export interface AcceptedMessage {
  readonly message: WireMessageBody;
  readonly body: Buffer;
}

const validateWire = compileValidator<WireMessageBody>(WireMessageSchema);

/**
 * Bounds on the shape of an inbound message before anything walks it. The wire message is one object of six
 * strings (depth 1, 7 values): these leave room for any future flat field and refuse nesting long before a
 * recursive walk (a schema's error collector, `JSON.stringify`) could exhaust the stack.
 */
export const INBOUND_SHAPE_LIMITS = { maxDepth: 8, maxValues: 256 } as const;

/** Refusals name at most this many fields, each path and message cut to `MAX_ERROR_CHARS`: keys are agent input. */
const MAX_ERRORS = 10;
const MAX_ERROR_CHARS = 200;

/**
 * Checks a message received from an agent: shape bounds, schema (ids, ISO timestamp, type, compact JWE), size,
 * sender bound to the authenticated agent, recipient registered. Pure; never throws, whatever `raw` is.
 *
 * The order is what keeps it safe: the untrusted value is only walked iteratively and within
 * {@link INBOUND_SHAPE_LIMITS} until the schema accepted it, and only the accepted value (six bounded strings)
 * is serialised. Codes: DMR_VALIDATION_FAILED, DMR_VALIDATION_TOO_LARGE, DMR_VALIDATION_SENDER_MISMATCH,
 * DMR_ROUTE_RECIPIENT_DISABLED, DMR_VALIDATION_UNKNOWN_RECIPIENT.
 */
export function validateInbound(raw: unknown, context: InboundContext): Result<AcceptedMessage> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return refuse('DMR_VALIDATION_FAILED', '', 'message must be a JSON object');
  const shape = checkShape(raw, INBOUND_SHAPE_LIMITS);
  if (shape) return refuse('DMR_VALIDATION_FAILED', '', shape);
  const checked = validateWire(raw);
  if (!checked.ok) return boundRefusal(checked);
  const message = checked.value;
  const body = Buffer.from(JSON.stringify(message));
  if (body.byteLength > context.maxMessageBytes) {
    return refuse('DMR_VALIDATION_TOO_LARGE', '', `message is ${body.byteLength} bytes; the limit is ${context.maxMessageBytes}`);
  }
  if (message.senderId !== context.authenticatedAgentId) {
    return refuse(
      'DMR_VALIDATION_SENDER_MISMATCH',
      'senderId',
      `is ${message.senderId} but the connection is authenticated as ${context.authenticatedAgentId}`,
    );
  }
  if (context.isDisabledAgent?.(message.recipientId)) {
    return refuse('DMR_ROUTE_RECIPIENT_DISABLED', 'recipientId', `agent ${message.recipientId} is disabled in the control plane`);
  }
  if (!context.isKnownAgent(message.recipientId)) {
    return refuse('DMR_VALIDATION_UNKNOWN_RECIPIENT', 'recipientId', `agent ${message.recipientId} is not in the registry`);
  }
  return { ok: true, value: { message, body } };
}

/**
 * Why `value` is nested deeper or holds more values than `limits` allow, or undefined when it fits. Iterative and
 * stops at the first excess, so its cost is bounded by the limits, not by the input. Binary values count as one.
 */
export function checkShape(value: unknown, limits: { maxDepth: number; maxValues: number }): string | undefined {
  const pending: Array<[unknown, number]> = [[value, 0]];
  let values = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [current, depth] = next;
    values++;
    if (values > limits.maxValues) return `message holds more than ${limits.maxValues} values`;
    if (typeof current !== 'object' || current === null || ArrayBuffer.isView(current) || current instanceof ArrayBuffer) continue;
    if (depth >= limits.maxDepth) return `message is nested deeper than ${limits.maxDepth} levels`;
    const children = Array.isArray(current) ? current : Object.values(current);
    if (values + children.length > limits.maxValues) return `message holds more than ${limits.maxValues} values`;
    for (const child of children) pending.push([child, depth + 1]);
  }
  return undefined;
}

function boundRefusal(refusal: Refusal): Refusal {
  const errors = refusal.errors.slice(0, MAX_ERRORS).map((error) => ({
    path: error.path.slice(0, MAX_ERROR_CHARS),
    message: error.message.slice(0, MAX_ERROR_CHARS),
  }));
  if (refusal.errors.length > MAX_ERRORS) errors.push({ path: '', message: `and ${refusal.errors.length - MAX_ERRORS} more` });
  // the schema's error collector stops early on many unknown keys and may then name none of them
  if (errors.length === 0) errors.push({ path: '', message: 'does not match the wire message schema' });
  return { ...refusal, errors };
}

const METADATA_FIELDS = ['id', 'senderId', 'recipientId', 'type', 'timestamp'] as const;
const MAX_FIELD_CHARS = 256;

/**
 * The record kept in `dmr.validation-failures`: metadata and reasons only. The payload is left out
 * because a refused message is by definition unchecked and might carry content in clear.
 */
export function buildFailureRecord(raw: unknown, authenticatedAgentId: string, refusal: Refusal, receivedAt: Date): Buffer {
  const source = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const metadata: Record<string, string> = {};
  for (const field of METADATA_FIELDS) {
    const value = source[field];
    if (typeof value === 'string') metadata[field] = value.slice(0, MAX_FIELD_CHARS);
  }
  const payload = source.payload;
  return Buffer.from(
    JSON.stringify({
      receivedAt: receivedAt.toISOString(),
      authenticatedAgentId,
      message: metadata,
      payloadChars: typeof payload === 'string' ? payload.length : null,
      code: refusal.code,
      errors: refusal.errors,
    }),
  );
}
