import Type, { type Static } from 'typebox';
import { AgentId, IsoTimestamp, MessageId, OptionalText } from './common.js';

/** `payload.chat` of a v1 message (seed 003 "Sending messages"). */
export const V1Chat = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    created: IsoTimestamp,
    endUserFirstName: OptionalText,
    endUserLastName: OptionalText,
    endUserId: OptionalText,
    endUserEmail: OptionalText,
    endUserPhone: OptionalText,
    customerSupportDisplayName: OptionalText,
    endUserOs: OptionalText,
    endUserUrl: OptionalText,
  },
  { additionalProperties: false },
);

/** One entry of `payload.messages`. */
export const V1ChatEntry = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    chatId: Type.String({ minLength: 1 }),
    content: Type.String(),
    authorTimestamp: IsoTimestamp,
    authorRole: Type.String({ minLength: 1 }),
    event: OptionalText,
    csaTitle: OptionalText,
    authorId: OptionalText,
    authorFirstName: OptionalText,
    authorLastName: OptionalText,
    forwardedByUser: OptionalText,
    forwardedFromCsa: OptionalText,
    forwardedToCsa: OptionalText,
    originalBaseId: OptionalText,
    originalCreated: OptionalText,
    rating: OptionalText,
    created: OptionalText,
    preview: OptionalText,
    updated: OptionalText,
    buttons: OptionalText,
    options: OptionalText,
  },
  { additionalProperties: false },
);

/** The v1 `payload`: what is encrypted end to end. */
export const V1Payload = Type.Object({ chat: V1Chat, messages: Type.Array(V1ChatEntry, { minItems: 1 }) }, { additionalProperties: false });

/** Body of `POST /v1/messages` (seed 003). */
export const V1MessageBody = Type.Object(
  {
    id: MessageId,
    recipientId: AgentId,
    timestamp: IsoTimestamp,
    type: Type.Literal('ChatMessage'),
    payload: V1Payload,
  },
  { additionalProperties: false },
);

export type V1Payload = Static<typeof V1Payload>;
export type V1MessageBody = Static<typeof V1MessageBody>;

/** What the recipient agent POSTs to its OUTGOING_MESSAGE_ENDPOINT: the original v1 body plus the authenticated sender. */
export interface DeliveredMessage extends V1MessageBody {
  readonly senderId: string;
}
