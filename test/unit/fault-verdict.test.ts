// The fault suite's verdict (test/faults/support/verdict.ts) on hand-made runs: a dead letter is a loss unless the
// scenario allows it, and the order check covers every accepted message (issue 21).
import { describe, expect, it } from 'vitest';
import type { Accepted } from '../faults/support/endpoint.js';
import type { StreamResult } from '../faults/support/stream.js';
import { countChatsOutOfOrder, type DeadLetter, summarize } from '../faults/support/verdict.js';

const CHAT = 'chat-1';

function streamOf(ids: readonly string[]): StreamResult {
  return {
    sent: [...ids],
    accepted: new Set(ids),
    acceptOrder: new Map([[CHAT, [...ids]]]),
    callerErrors: new Map(),
    durationMs: 1000,
  };
}

const arrivals = (ids: readonly string[]): Accepted[] => ids.map((id, atMs) => ({ id, senderId: 'a', chatId: CHAT, atMs }));
const letter = (id: string, reasonCode = 'DMR_DELIVERY_ENDPOINT_FAILED'): DeadLetter => ({ id, reasonCode, reason: 'limit' });

describe('fault verdict', () => {
  it('counts an accepted message that ended in the DLQ as missing when the scenario expects no dead letter', () => {
    const summary = summarize('s', streamOf(['m1', 'm2', 'm3']), arrivals(['m1', 'm3']), [], [letter('m2')]);
    expect(summary.missingIds).toEqual(['m2']);
    expect(summary.unexpectedDeadLetterIds).toEqual(['m2']);
    expect(summary.chatsOutOfOrder, 'the gap breaks the chat').toBe(1);
  });

  it('counts a dead letter of a delivered message as unexpected too', () => {
    const summary = summarize('s', streamOf(['m1', 'm2']), arrivals(['m1', 'm2']), [], [letter('m2')]);
    expect(summary.missingIds).toEqual([]);
    expect(summary.unexpectedDeadLetterIds).toEqual(['m2']);
  });

  it('excuses exactly the dead letters the scenario allows', () => {
    const allowDeadLetter = (dead: DeadLetter) => dead.reasonCode === 'DMR_DELIVERY_ENDPOINT_FAILED';
    const letters = [letter('m2'), letter('m3', 'DMR_DELIVERY_TTL_EXPIRED')];
    const summary = summarize('s', streamOf(['m1', 'm2', 'm3']), arrivals(['m1']), [], letters, { allowDeadLetter });
    expect(summary.missingIds).toEqual(['m3']);
    expect(summary.unexpectedDeadLetterIds).toEqual(['m3']);
    expect(summary.deadLettered).toBe(2);
    const allowed = summarize('s', streamOf(['m1', 'm2']), arrivals(['m1']), [], [letter('m2')], { allowDeadLetter });
    expect(allowed.missingIds).toEqual([]);
    expect(allowed.unexpectedDeadLetterIds).toEqual([]);
    expect(allowed.chatsOutOfOrder, 'an allowed dead letter is no gap').toBe(0);
  });

  it('counts a message that vanished as missing and as a gap in its chat', () => {
    const summary = summarize('s', streamOf(['m1', 'm2', 'm3']), arrivals(['m1', 'm3']), [], []);
    expect(summary.missingIds).toEqual(['m2']);
    expect(summary.chatsOutOfOrder).toBe(1);
  });

  it('order: an inversion, a gap, and the exact acceptance order', () => {
    const order = new Map([[CHAT, ['m1', 'm2', 'm3']]]);
    expect(countChatsOutOfOrder(order, arrivals(['m1', 'm3', 'm2']))).toBe(1);
    expect(countChatsOutOfOrder(order, arrivals(['m1', 'm3']))).toBe(1);
    expect(countChatsOutOfOrder(order, arrivals(['m1', 'm3']), new Set(['m2']))).toBe(0);
    expect(countChatsOutOfOrder(order, arrivals(['m1', 'm2', 'm1', 'm3']))).toBe(0);
  });
});
