import { backoffDelayMs, compileValidator, EnvReader, parseLogLevels, type V1MessageBody, V1MessageBody as V1Schema } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

const validate = compileValidator<V1MessageBody>(V1Schema);

export const validBody = {
  id: 'b1a7e8c2-1234-4f56-9abc-1234567890ab',
  recipientId: 'd3b07384-d9a0-4c3f-a4e2-123456789abc',
  timestamp: '2024-01-15T10:30:00.000Z',
  type: 'ChatMessage',
  payload: {
    chat: { id: 'f47ac10b-58cc-4372-a567-0e02b2c3d479', created: '2024-01-15T10:00:00.000Z', endUserFirstName: 'Alice' },
    messages: [
      {
        id: '550e8400-e29b-41d4-a716-446655440000',
        chatId: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
        content: 'example string 2',
        authorTimestamp: '2024-01-15T10:30:00.000Z',
        authorRole: 'end-user',
        buttons: '[]',
      },
    ],
  },
};

describe('v1 message validation', () => {
  it("accepts seed 003's example body", () => {
    expect(validate(validBody)).toEqual({ ok: true, value: validBody });
  });

  it('names every bad field by its dotted path', () => {
    const bad = {
      ...validBody,
      timestamp: 'yesterday',
      type: 'Other',
      extra: 1,
      payload: { ...validBody.payload, messages: [{ ...validBody.payload.messages[0], authorRole: undefined }] },
    };
    const result = validate(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.errors.map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(['timestamp', 'type', 'extra', 'payload.messages.0.authorRole']));
    expect(result.errors.find((e) => e.path === 'extra')?.message).toBe('is not allowed');
  });

  it.each([
    ['id', (b: typeof validBody, v: string) => ({ ...b, id: v })],
    ['recipientId', (b: typeof validBody, v: string) => ({ ...b, recipientId: v })],
    ['payload.chat.id', (b: typeof validBody, v: string) => ({ ...b, payload: { ...b.payload, chat: { ...b.payload.chat, id: v } } })],
    [
      'payload.messages.0.id',
      (b: typeof validBody, v: string) => ({ ...b, payload: { ...b.payload, messages: [{ ...b.payload.messages[0], id: v }] } }),
    ],
    [
      'payload.messages.0.chatId',
      (b: typeof validBody, v: string) => ({ ...b, payload: { ...b.payload, messages: [{ ...b.payload.messages[0], chatId: v }] } }),
    ],
  ])('refuses a %s that is not a UUID (seed 003), naming only that field', (path, set) => {
    for (const value of ['demo-chat', 'agent-b', '550e8400e29b41d4a716446655440000', '550e8400-e29b-41d4-a716-4466554400000']) {
      const result = validate(set(validBody, value));
      expect(result.ok ? [] : result.errors).toEqual([{ path, message: expect.stringMatching(/^must be a UUID/) }]);
    }
    expect(validate(set(validBody, '550E8400-E29B-41D4-A716-446655440000')).ok, 'either case, as RFC 9562 reads them').toBe(true);
  });

  it('refuses an empty message list and a recipient id that could not be a queue name', () => {
    const result = validate({ ...validBody, recipientId: 'a.b#c', payload: { ...validBody.payload, messages: [] } });
    expect(result.ok ? [] : result.errors.map((e) => e.path).sort()).toEqual(['payload.messages', 'recipientId']);
  });
});

describe('EnvReader', () => {
  it('reports every bad variable at once', () => {
    const read = new EnvReader({ PORT: 'abc', FLAG: 'maybe', URL: 'ftp://x' });
    read.int('PORT', { default: 1 });
    read.requiredString('MISSING');
    read.bool('FLAG', false);
    read.url('URL', ['http:']);
    expect(() => read.finish()).toThrow(/PORT must be an integer.*MISSING is required.*FLAG must be true or false.*URL must use http:/);
  });

  it('applies defaults and bounds', () => {
    const read = new EnvReader({ SMALL: '5' });
    expect(read.int('ABSENT', { default: 7 })).toBe(7);
    read.int('SMALL', { min: 10 });
    expect(() => read.finish()).toThrow(/SMALL must be ≥ 10/);
  });
});

describe('log levels and backoff', () => {
  it("maps seed 003's level lists to a pino threshold", () => {
    expect(parseLogLevels('error,warn,log')).toBe('info');
    expect(parseLogLevels('error')).toBe('error');
    expect(parseLogLevels('error,debug')).toBe('debug');
    expect(parseLogLevels('error,shout')).toBeUndefined();
  });

  it('grows exponentially, stays under the cap and keeps jitter in range', () => {
    const settings = { initialDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, settings, () => 1)).toBe(100);
    expect(backoffDelayMs(3, settings, () => 1)).toBe(800);
    expect(backoffDelayMs(20, settings, () => 1)).toBe(1000);
    expect(backoffDelayMs(20, settings, () => 0)).toBe(50);
  });
});
