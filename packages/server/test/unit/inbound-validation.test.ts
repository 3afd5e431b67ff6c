// The edges of inbound validation that the wider tests (server-core, untrusted-input) do not pin down: which
// inputs are refused before the schema, the exact size and shape limits, what a refusal tells the agent, and what
// the dead-letter record keeps. Found by mutation testing (docs/testing.md); each test states the behaviour.
import { buildFailureRecord, checkShape, validateInbound } from '@dmr/server';
import { describe, expect, it } from 'vitest';

const jwe = 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn';
const wire = {
  id: 'm1',
  timestamp: '2024-01-15T10:30:00.000Z',
  senderId: 'agent-a',
  recipientId: 'agent-b',
  type: 'ChatMessage',
  payload: jwe,
};
const exactBytes = Buffer.byteLength(JSON.stringify(wire));
const context = { authenticatedAgentId: 'agent-a', isKnownAgent: (id: string) => id === 'agent-b', maxMessageBytes: 4096 };

describe('validateInbound', () => {
  it('refuses a recipient the control plane disabled with its own code, not as unknown (issue 18)', () => {
    const disabled = { ...context, isKnownAgent: () => false, isDisabledAgent: (id: string) => id === 'agent-b' };
    expect(validateInbound(wire, disabled)).toEqual({
      ok: false,
      code: 'DMR_ROUTE_RECIPIENT_DISABLED',
      errors: [{ path: 'recipientId', message: 'agent agent-b is disabled in the control plane' }],
    });
    expect(validateInbound({ ...wire, recipientId: 'agent-c' }, disabled)).toMatchObject({ code: 'DMR_VALIDATION_UNKNOWN_RECIPIENT' });
  });

  it.each([null, [wire], 'text', 42, true])('refuses %j as "not a JSON object" before any schema walk', (raw) => {
    expect(validateInbound(raw, context)).toEqual({
      ok: false,
      code: 'DMR_VALIDATION_FAILED',
      errors: [{ path: '', message: 'message must be a JSON object' }],
    });
  });

  it('refuses an over-deep message with the shape reason, not a schema error', () => {
    const deep = { ...wire, payload: [[[[[[[[[['x']]]]]]]]]] };
    expect(validateInbound(deep, context)).toEqual({
      ok: false,
      code: 'DMR_VALIDATION_FAILED',
      errors: [{ path: '', message: 'message is nested deeper than 8 levels' }],
    });
  });

  it('accepts a message of exactly the byte limit and refuses one byte more, naming both sizes', () => {
    expect(validateInbound(wire, { ...context, maxMessageBytes: exactBytes }).ok).toBe(true);
    expect(validateInbound(wire, { ...context, maxMessageBytes: exactBytes - 1 })).toEqual({
      ok: false,
      code: 'DMR_VALIDATION_TOO_LARGE',
      errors: [{ path: '', message: `message is ${exactBytes} bytes; the limit is ${exactBytes - 1}` }],
    });
  });

  it('names the claimed and the authenticated sender, and the unknown recipient', () => {
    expect(validateInbound({ ...wire, senderId: 'agent-x' }, context)).toMatchObject({
      errors: [{ path: 'senderId', message: 'is agent-x but the connection is authenticated as agent-a' }],
    });
    expect(validateInbound({ ...wire, recipientId: 'agent-z' }, context)).toMatchObject({
      errors: [{ path: 'recipientId', message: 'agent agent-z is not in the registry' }],
    });
  });

  it('cuts each path and message of a schema refusal to 200 characters (keys are agent input)', () => {
    const longKey = `k${'y'.repeat(500)}`;
    const result = validateInbound({ ...wire, [longKey]: 'x' }, context);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(error.path.length).toBeLessThanOrEqual(200);
      expect(error.message.length).toBeLessThanOrEqual(200);
    }
    // the cut keeps the start of the offending key, so the agent can still tell which field it was
    expect(result.errors.some((error) => error.path.includes('kyyyy') || error.message.includes('kyyyy'))).toBe(true);
  });

  it('still gives a reason when the schema collector stops on unknown keys before naming any', () => {
    const raw = { ...wire, ...Object.fromEntries(Array.from({ length: 200 }, (_, index) => [`extra${index}`, 'x'])) };
    expect(validateInbound(raw, context)).toEqual({
      ok: false,
      code: 'DMR_VALIDATION_FAILED',
      errors: [{ path: '', message: 'does not match the wire message schema' }],
    });
  });
});

describe('checkShape', () => {
  const limits = { maxDepth: 2, maxValues: 4 };

  it('accepts exactly maxValues values and refuses one more', () => {
    expect(checkShape([1, 2, 3], limits)).toBeUndefined(); // the array and its three items: 4 values
    expect(checkShape([1, 2, 3, 4], limits)).toBe('message holds more than 4 values');
  });

  it('counts values already queued on other branches, not only the children of one node', () => {
    // the root, a, b and b's two items: 5 values, though no single node has more than 2 children
    expect(checkShape({ a: 1, b: [1, 2] }, limits)).toBe('message holds more than 4 values');
    expect(checkShape({ a: 1, b: [1, 2] }, { ...limits, maxValues: 5 })).toBeUndefined();
  });

  it('allows values at maxDepth but no container there', () => {
    expect(checkShape([[1]], limits)).toBeUndefined();
    expect(checkShape([[[]]], limits)).toBe('message is nested deeper than 2 levels');
  });
});

describe('buildFailureRecord', () => {
  const refusal = { ok: false as const, code: 'DMR_VALIDATION_FAILED' as const, errors: [{ path: '', message: 'bad' }] };

  it.each([null, 'text', 7])('records %j (not an object) with empty metadata instead of throwing', (raw) => {
    const record = JSON.parse(buildFailureRecord(raw, 'agent-a', refusal, new Date(0)).toString());
    expect(record).toEqual({
      receivedAt: '1970-01-01T00:00:00.000Z',
      authenticatedAgentId: 'agent-a',
      message: {},
      payloadChars: null,
      code: 'DMR_VALIDATION_FAILED',
      errors: [{ path: '', message: 'bad' }],
    });
  });

  it('keeps string metadata cut to 256 characters, drops non-strings, and counts payload characters only', () => {
    const raw = { ...wire, id: 'i'.repeat(300), senderId: 5, payload: 'secret text' };
    const record = JSON.parse(buildFailureRecord(raw, 'agent-a', refusal, new Date(0)).toString());
    expect(record.message).toEqual({ id: 'i'.repeat(256), recipientId: 'agent-b', type: 'ChatMessage', timestamp: wire.timestamp });
    expect(record.payloadChars).toBe('secret text'.length);
    expect(JSON.stringify(record)).not.toContain('secret text');
  });
});
