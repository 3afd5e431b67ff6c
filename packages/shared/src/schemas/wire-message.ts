import Type, { type Static } from 'typebox';
import { AgentId, IsoTimestamp, MessageId } from './common.js';

/** Compact JWE: five base64url segments. */
const CompactJwe = Type.String({ pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' });

/** The wire message between agent, server and RabbitMQ (design.md). */
export const WireMessageSchema = Type.Object(
  {
    id: MessageId,
    timestamp: IsoTimestamp,
    senderId: AgentId,
    recipientId: AgentId,
    type: Type.Literal('ChatMessage'),
    payload: CompactJwe,
  },
  { additionalProperties: false },
);

export type WireMessageBody = Static<typeof WireMessageSchema>;
