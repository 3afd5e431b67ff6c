// Issue 15, findings 1, 2 and 6 at the unit level: whatever an agent sends or acks, the pure core answers with a
// value and never throws; only catalog codes become metric labels.
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import {
  checkShape,
  decideDelivery,
  INBOUND_SHAPE_LIMITS,
  MessageRouter,
  parseDeliveryAck,
  splitEventArguments,
  validateInbound,
} from '@dmr/server';
import { codeLabel, createLogger, DmrError, guardProcess } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import { fixedTexts, generatedTexts, nestedText } from '../../../../test/support/garbage.js';
import { createServerMetrics } from '../../src/obs/index.js';

const jwe = 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn';
const wire = {
  id: 'm1',
  timestamp: '2024-01-15T10:30:00.000Z',
  senderId: 'agent-a',
  recipientId: 'agent-b',
  type: 'ChatMessage',
  payload: jwe,
};
const context = { authenticatedAgentId: 'agent-a', isKnownAgent: (id: string) => id === 'agent-b', maxMessageBytes: 4096 };
const silent = createLogger({ name: 'test', level: 'fatal' });

describe('validateInbound on hostile input (finding 1)', () => {
  it('refuses a ~10 KB message nested 5000 levels deep with a value instead of throwing RangeError', () => {
    const deep = JSON.parse(nestedText(5000, 'object')) as Record<string, unknown>;
    const result = validateInbound(deep, context);
    expect(result).toMatchObject({ ok: false, code: 'DMR_VALIDATION_FAILED' });
    const deepField = { ...wire, payload: JSON.parse(nestedText(5000, 'array')) };
    expect(validateInbound(deepField, context)).toMatchObject({ ok: false, code: 'DMR_VALIDATION_FAILED' });
  });

  it('answers every generated shape with a refusal value, bounded in size', () => {
    const texts = [...fixedTexts(), ...generatedTexts(15, 300, wire)];
    for (const [index, text] of texts.entries()) {
      const raw: unknown = JSON.parse(text);
      const result = (() => {
        try {
          return validateInbound(raw, context);
        } catch (error) {
          throw new Error(`shape #${index} threw: ${String(error)}`);
        }
      })();
      if (result.ok) continue;
      expect(result.errors.length, `shape #${index}`).toBeLessThanOrEqual(11);
      for (const error of result.errors) expect(error.path.length + error.message.length).toBeLessThanOrEqual(400);
    }
  });

  it('keeps refusals of many unknown keys short', () => {
    const raw = { ...wire, ...Object.fromEntries(Array.from({ length: 200 }, (_, index) => [`extra${index}`, 'x'])) };
    const result = validateInbound(raw, context);
    expect(result).toMatchObject({ ok: false, code: 'DMR_VALIDATION_FAILED' });
    if (!result.ok) {
      expect(result.errors.length).toBeGreaterThan(0);
      expect(result.errors.length).toBeLessThanOrEqual(11);
    }
  });

  it('still accepts a valid message and still reports an oversized one as too large', () => {
    expect(validateInbound(wire, context).ok).toBe(true);
    expect(validateInbound({ ...wire, payload: `${jwe}${'A'.repeat(5000)}` }, context)).toMatchObject({ code: 'DMR_VALIDATION_TOO_LARGE' });
  });

  it('checkShape stops at the limits, iteratively', () => {
    expect(checkShape(wire, INBOUND_SHAPE_LIMITS)).toBeUndefined();
    expect(checkShape(JSON.parse(nestedText(100_000, 'array')), INBOUND_SHAPE_LIMITS)).toMatch(/nested deeper than 8/);
    expect(checkShape({ list: Array.from({ length: 1000 }, () => 0) }, INBOUND_SHAPE_LIMITS)).toMatch(/more than 256 values/);
    expect(checkShape({ bytes: Buffer.alloc(100_000) }, INBOUND_SHAPE_LIMITS)).toBeUndefined();
  });
});

describe('MessageRouter.route never rejects (finding 1)', () => {
  const published: Buffer[] = [];
  const router = (isKnownAgent: (id: string) => boolean) =>
    new MessageRouter(
      {
        broker: {
          publish: async (_exchange: string, _key: string, body: Buffer) => {
            published.push(body);
          },
        },
        isKnownAgent,
        metrics: createServerMetrics(),
        log: silent,
      },
      4096,
    );

  it('answers a deeply nested message with an error ack', async () => {
    const reply = await router(() => true).route(JSON.parse(nestedText(5000, 'object')), 'agent-a');
    expect(reply).toMatchObject({ status: 'error', error: 'DMR_VALIDATION_FAILED' });
  });

  it('answers DMR_INTERNAL_ERROR when something nobody foresaw throws', async () => {
    const broken = router(() => {
      throw new Error('registry lookup blew up');
    });
    await expect(broken.route(wire, 'agent-a')).resolves.toMatchObject({ status: 'error', error: 'DMR_INTERNAL_ERROR' });
    expect(broken.inFlight).toBe(0);
  });
});

describe('parseDeliveryAck and decideDelivery on hostile acks (finding 2)', () => {
  it.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'ok'],
    ['a number', 42],
    ['an array', [{ status: 'ok' }]],
    ['errors:[null]', { status: 'error', errors: [null] }],
    ['non-array errors', { status: 'error', errors: 'DMR_INTERNAL_ERROR' }],
    ['errors as an object', { status: 'error', errors: { length: 1, 0: { type: 'x' } } }],
    ['an unknown status', { status: 'OK' }],
    ['status from the prototype only', JSON.parse('{"__proto__":{"status":"ok"}}')],
  ])('%s: a failed attempt with DMR_DELIVERY_INVALID_ACK, dead-lettered at the limit', (_name, raw) => {
    const parsed = parseDeliveryAck(raw);
    expect(parsed).toHaveProperty('invalid');
    expect(decideDelivery(parsed, 0, 3)).toMatchObject({ action: 'retry', code: 'DMR_DELIVERY_INVALID_ACK', isAttempt: true });
    expect(decideDelivery(parsed, 2, 3)).toMatchObject({ action: 'dead-letter', code: 'DMR_DELIVERY_INVALID_ACK' });
  });

  it('keeps well-formed acks, bounding what the agent wrote', () => {
    expect(parseDeliveryAck({ status: 'ok', extra: [1, 2] })).toEqual({ status: 'ok' });
    expect(parseDeliveryAck({ status: 'error' })).toEqual({ status: 'error' });
    const long = parseDeliveryAck({
      status: 'error',
      errors: Array.from({ length: 1000 }, () => ({ type: `T${'x'.repeat(500)}`, message: 'm'.repeat(5000) })),
    });
    expect(long).toMatchObject({ status: 'error' });
    if ('errors' in long && long.errors) {
      expect(long.errors).toHaveLength(8);
      expect(long.errors[0]?.type).toHaveLength(64);
      expect(long.errors[0]?.message).toHaveLength(256);
    }
  });

  it('never throws on any generated ack', () => {
    for (const text of [...fixedTexts(), ...generatedTexts(2, 300, wire)]) {
      const decision = decideDelivery(parseDeliveryAck(JSON.parse(text)), 0, 5);
      expect(['ack', 'retry', 'dead-letter']).toContain(decision.action);
    }
  });
});

describe('metric labels from agent input (finding 6)', () => {
  it('labels only catalog codes, anything else as unknown', () => {
    expect(codeLabel('DMR_DELIVERY_ENDPOINT_FAILED')).toBe('DMR_DELIVERY_ENDPOINT_FAILED');
    for (const value of ['SOMETHING_NEW', 'x'.repeat(64), '__proto__', 'constructor', 'toString', '', 7, null, undefined]) {
      expect(codeLabel(value)).toBe('unknown');
    }
  });
});

describe('socket event arguments', () => {
  it('takes the ack from the end only, so an argument cannot pose as it', () => {
    const ack = () => undefined;
    expect(splitEventArguments(['m', ack])).toEqual({ message: 'm', ack });
    expect(splitEventArguments(['m', 'not a function', ack])).toEqual({ message: 'm', ack });
    expect(splitEventArguments(['m', 'not a function'])).toEqual({ message: 'm', ack: undefined });
    expect(splitEventArguments([ack])).toEqual({ message: undefined, ack });
    expect(splitEventArguments([])).toEqual({ message: undefined, ack: undefined });
  });
});

describe('guardProcess', () => {
  it('logs and counts unhandled rejections and uncaught exceptions with their code', () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    const counted: string[] = [];
    const target = new EventEmitter();
    guardProcess(target, {
      log: createLogger({ name: 't', level: 'info', destination: sink }),
      count: (kind, code) => counted.push(`${kind}:${code}`),
    });
    target.emit('unhandledRejection', new DmrError('DMR_ROUTE_PUBLISH_FAILED', 'nack'));
    target.emit('uncaughtException', new RangeError('Maximum call stack size exceeded'));
    expect(counted).toEqual(['unhandledRejection:DMR_ROUTE_PUBLISH_FAILED', 'uncaughtException:DMR_INTERNAL_ERROR']);
    expect(lines.map((line) => [line.kind, line.code])).toEqual([
      ['unhandledRejection', 'DMR_ROUTE_PUBLISH_FAILED'],
      ['uncaughtException', 'DMR_INTERNAL_ERROR'],
    ]);
  });
});
