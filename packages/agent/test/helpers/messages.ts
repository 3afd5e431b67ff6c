import { randomUUID } from 'node:crypto';
import type { V1MessageBody } from '@dmr/shared';

/** A seed 003 v1 body with every optional field set, so "exactly the original body" is a strong check. */
export function v1Message(recipientId: string, id: string = randomUUID()): V1MessageBody {
  const chatId = randomUUID();
  return {
    id,
    recipientId,
    timestamp: '2024-01-15T10:30:00.000Z',
    type: 'ChatMessage',
    payload: {
      chat: {
        id: chatId,
        created: '2024-01-15T10:00:00.000Z',
        endUserFirstName: 'Alice',
        endUserLastName: 'Smith',
        endUserId: 'user-123',
        endUserEmail: 'alice@example.com',
        endUserPhone: '+123456789',
        customerSupportDisplayName: 'Support Bot',
        endUserOs: 'Windows',
        endUserUrl: null,
      },
      messages: [
        {
          id: randomUUID(),
          chatId,
          content: 'secret question about taxes',
          authorTimestamp: '2024-01-15T10:30:00.000Z',
          authorRole: 'end-user',
          event: 'joined',
          csaTitle: 'Agent',
          authorId: 'agent-123',
          rating: '5',
          buttons: '[]',
          options: '{}',
        },
      ],
    },
  };
}
