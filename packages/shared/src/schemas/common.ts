import Type from 'typebox';

/** Agent ids become queue names and routing keys: letters, digits, `-` and `_` only (UUIDs fit). */
export const AgentId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$', description: 'agent id (UUID recommended)' });

/** Message ids: the same safe alphabet, so they can be used in logs and AMQP properties as they are. */
export const MessageId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$', description: 'message id (UUID recommended)' });

/** An ISO 8601 date-time with a time zone. */
export const IsoTimestamp = Type.String({ format: 'date-time' });

/** An optional free-text field that chatbot databases may also send as null. */
export const OptionalText = Type.Optional(Type.Union([Type.String(), Type.Null()]));
