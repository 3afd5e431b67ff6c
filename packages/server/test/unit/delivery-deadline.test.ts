// Issue 15, finding 17: the deadline the server gives agents that enforce it, and the grace it keeps for them.
import { decideDelivery } from '@dmr/server';
import { DELIVERY_DEADLINE_FEATURE } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import { announcesDeadlines, withDeadline } from '../../src/gateway/delivery-deadline.js';

const wire = {
  id: 'm1',
  timestamp: '2024-01-15T10:30:00.000Z',
  senderId: 'a',
  recipientId: 'b',
  type: 'ChatMessage' as const,
  payload: 'a.b.c.d.e',
};

describe('announcesDeadlines', () => {
  it('is true only for an auth object whose features list the deadline feature', () => {
    expect(announcesDeadlines({ token: 't', features: [DELIVERY_DEADLINE_FEATURE] })).toBe(true);
    // seed 003 agents send the token alone; anything malformed is treated the same way
    for (const auth of [{ token: 't' }, undefined, null, 'x', { features: 'delivery-deadline' }, { features: [{}] }]) {
      expect(announcesDeadlines(auth)).toBe(false);
    }
  });
});

describe('withDeadline', () => {
  it('adds the remaining TTL in whole ms, never negative, and leaves the message alone without one', () => {
    expect(withDeadline(wire, 1234.7)).toEqual({ ...wire, expiresInMs: 1234 });
    expect(withDeadline(wire, -50)).toEqual({ ...wire, expiresInMs: 0 });
    expect(withDeadline(wire, undefined)).toBe(wire);
  });
});

describe('decideDelivery with a grace past the TTL', () => {
  it('keeps an unanswered delivery until TTL + grace, then dead-letters it', () => {
    expect(decideDelivery({ timeout: true }, 0, 3, { ageMs: 3500, ttlMs: 3000, graceMs: 1000 })).toMatchObject({
      action: 'retry',
      isAttempt: false,
    });
    expect(decideDelivery({ timeout: true }, 0, 3, { ageMs: 4000, ttlMs: 3000, graceMs: 1000 })).toMatchObject({
      action: 'dead-letter',
      code: 'DMR_ROUTE_ACK_TIMEOUT',
    });
  });

  it("dead-letters the agent's expiry answer at once, whatever the attempt", () => {
    const expired = { status: 'error' as const, errors: [{ type: 'DMR_DELIVERY_EXPIRED', message: 'held past the TTL' }] };
    expect(decideDelivery(expired, 0, 10)).toMatchObject({ action: 'dead-letter', code: 'DMR_DELIVERY_EXPIRED' });
  });
});
