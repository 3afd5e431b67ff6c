import Type from 'typebox';

/** Agent ids become queue names and routing keys: letters, digits, `-` and `_` only (UUIDs fit). */
export const AgentId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$', description: 'agent id (UUID recommended)' });

/** Message ids: the same safe alphabet, so they can be used in logs and AMQP properties as they are. */
export const MessageId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$', description: 'message id (UUID recommended)' });

/**
 * A UUID in its RFC 9562 text form: 8-4-4-4-12 hex digits, any version, either case. Seed 003 defines the ids of
 * `POST /v1/messages` as UUIDs (message, recipient agent, chat, chat messages); the relay's own wire checks keep the
 * wider {@link AgentId} and {@link MessageId} grammar, so agents with other ids still route.
 */
export const Uuid = Type.String({ format: 'uuid', description: 'UUID (RFC 9562 text form)' });

/** An ISO 8601 date-time with a time zone. */
export const IsoTimestamp = Type.String({ format: 'date-time' });

/** An optional free-text field that chatbot databases may also send as null. */
export const OptionalText = Type.Optional(Type.Union([Type.String(), Type.Null()]));
