import { compileValidator, type Refusal, type Result, refuse, type WireMessageBody, WireMessageSchema } from '@dmr/shared';

/** What the validator needs to know about the sending socket and the registry. */
export interface InboundContext {
  readonly authenticatedAgentId: string;
  readonly isKnownAgent: (agentId: string) => boolean;
  readonly maxMessageBytes: number;
}

/** An accepted message with its serialised form, so it is encoded once. */
export interface AcceptedMessage {
  readonly message: WireMessageBody;
  readonly body: Buffer;
}

const validateWire = compileValidator<WireMessageBody>(WireMessageSchema);

/**
 * Checks a message received from an agent: size, schema (ids, ISO timestamp, type, compact JWE),
 * sender bound to the authenticated agent, recipient registered. Pure.
 */
export function validateInbound(raw: unknown, context: InboundContext): Result<AcceptedMessage> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return refuse('DMR_VALIDATION_FAILED', '', 'message must be a JSON object');
  const body = Buffer.from(JSON.stringify(raw));
  if (body.byteLength > context.maxMessageBytes) {
    return refuse('DMR_VALIDATION_TOO_LARGE', '', `message is ${body.byteLength} bytes; the limit is ${context.maxMessageBytes}`);
  }
  const checked = validateWire(raw);
  if (!checked.ok) return checked;
  const message = checked.value;
  if (message.senderId !== context.authenticatedAgentId) {
    return refuse(
      'DMR_VALIDATION_SENDER_MISMATCH',
      'senderId',
      `is ${message.senderId} but the connection is authenticated as ${context.authenticatedAgentId}`,
    );
  }
  if (!context.isKnownAgent(message.recipientId)) {
    return refuse('DMR_VALIDATION_UNKNOWN_RECIPIENT', 'recipientId', `agent ${message.recipientId} is not in the registry`);
  }
  return { ok: true, value: { message, body } };
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
