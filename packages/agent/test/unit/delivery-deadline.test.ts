// Issue 15, finding 17: the agent takes the server's deadline field off a delivery before the strict wire schema sees it.
import { describe, expect, it } from 'vitest';
import { splitDeadline } from '../../src/delivery/delivery-deadline.js';

const wire = {
  id: 'm1',
  timestamp: '2024-01-15T10:30:00.000Z',
  senderId: 'a',
  recipientId: 'b',
  type: 'ChatMessage',
  payload: 'a.b.c.d.e',
};

describe('splitDeadline', () => {
  it('returns the wire message without the field, and the remaining ms', () => {
    expect(splitDeadline({ ...wire, expiresInMs: 2500 })).toEqual({ message: wire, expiresInMs: 2500 });
    expect(splitDeadline({ ...wire, expiresInMs: 0 })).toEqual({ message: wire, expiresInMs: 0 });
  });

  it('leaves a delivery without the field as it is (a server that sends no deadlines)', () => {
    const split = splitDeadline(wire);
    expect(split.message).toBe(wire);
    expect(split.expiresInMs).toBeUndefined();
  });

  it('drops a malformed value and treats the delivery as having no deadline', () => {
    for (const value of [-1, Number.NaN, Number.POSITIVE_INFINITY, '100', null]) {
      expect(splitDeadline({ ...wire, expiresInMs: value })).toEqual({ message: wire });
    }
    for (const message of [null, 'text', 42, undefined]) expect(splitDeadline(message)).toEqual({ message });
  });
});
