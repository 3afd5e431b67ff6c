import Type, { type Static } from 'typebox';
import { AgentId, IsoTimestamp, MessageId } from './common.js';

/** Compact JWE: five base64url segments. */
const CompactJwe = Type.String({ pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' });

const WIRE_PROPERTIES = {
  id: MessageId,
  timestamp: IsoTimestamp,
  senderId: AgentId,
  recipientId: AgentId,
  type: Type.Literal('ChatMessage'),
  payload: CompactJwe,
};

/** The wire message between agent, server and RabbitMQ (design.md), as an agent sends it: nothing else allowed. */
export const WireMessageSchema = Type.Object(WIRE_PROPERTIES, { additionalProperties: false });

export type WireMessageBody = Static<typeof WireMessageSchema>;

/**
 * A wire message as a server delivers it to an agent (`dmr:agents:message-from-dmr-server`). Seed 003's server adds
 * `receivedAt` to every delivery (optional in its wire DTO), and a server may add fields of its own: they are
 * accepted here so a delivery is not refused for them, and {@link pickWireFields} drops them. Nothing an agent
 * decides (dedup key, signature check, what it posts) ever reads them: the relay is not trusted with meaning.
 */
export const DeliveredWireSchema = Type.Object(
  {
    ...WIRE_PROPERTIES,
    receivedAt: Type.Optional(Type.Unknown({ description: 'seed 003: when its server received the message; never read' })),
  },
  { additionalProperties: true },
);

/** The six wire fields of a delivered message, without whatever else the server added. Pure. */
export function pickWireFields(delivered: WireMessageBody): WireMessageBody {
  const { id, timestamp, senderId, recipientId, type, payload } = delivered;
  return { id, timestamp, senderId, recipientId, type, payload };
}
