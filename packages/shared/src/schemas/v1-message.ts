import Type, { type Static, type TSchema } from 'typebox';
import { IsoTimestamp, OptionalText, Uuid } from './common.js';

/**
 * Ids a recipient accepts in a payload it decrypted: any non-empty string. The sending agent checked the payload
 * under its own rules; refusing it here would dead-letter a message its sender was told was accepted (seed-003
 * agents, or DMR agents from before ids were checked as UUIDs).
 */
const RelayedId = Type.String({ minLength: 1 });

/** `payload.chat` (seed 003 "Sending messages"), its `id` checked by `id`. */
function chatSchema<Id extends TSchema>(id: Id) {
  return Type.Object(
    {
      id,
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
}

/** One entry of `payload.messages`, its `id` and `chatId` checked by `id`. */
function chatEntrySchema<Id extends TSchema>(id: Id) {
  return Type.Object(
    {
      id,
      // the id of the chat the entry belongs to (seed 003: the `payload.chat.id` of its example)
      chatId: id,
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
}

/** `payload.chat` of a v1 message (seed 003 "Sending messages"); `id` is a UUID. */
export const V1Chat = chatSchema(Uuid);

/** One entry of `payload.messages`; `id` and `chatId` are UUIDs. */
export const V1ChatEntry = chatEntrySchema(Uuid);

/** The v1 `payload`: what is encrypted end to end. */
export const V1Payload = Type.Object({ chat: V1Chat, messages: Type.Array(V1ChatEntry, { minItems: 1 }) }, { additionalProperties: false });

/**
 * The v1 `payload` as a recipient agent accepts it after decrypting: {@link V1Payload} with any non-empty string as
 * chat and message ids (see `RelayedId`). Strict on what DMR accepts from a caller, lenient on what a peer relayed.
 */
export const V1RelayedPayload = Type.Object(
  { chat: chatSchema(RelayedId), messages: Type.Array(chatEntrySchema(RelayedId), { minItems: 1 }) },
  { additionalProperties: false },
);

/** Body of `POST /v1/messages` (seed 003): every id is a UUID. */
export const V1MessageBody = Type.Object(
  {
    id: Uuid,
    recipientId: Uuid,
    timestamp: IsoTimestamp,
    type: Type.Literal('ChatMessage'),
    payload: V1Payload,
  },
  { additionalProperties: false },
);

export type V1Payload = Static<typeof V1Payload>;
export type V1RelayedPayload = Static<typeof V1RelayedPayload>;
export type V1MessageBody = Static<typeof V1MessageBody>;

/** What the recipient agent POSTs to its OUTGOING_MESSAGE_ENDPOINT: the original v1 body plus the authenticated sender. */
export interface DeliveredMessage extends V1MessageBody {
  readonly senderId: string;
}
