import { createLogger, fixedShapeLogger } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe('createLogger', () => {
  it('redacts content, payload and keys even when a caller logs them by mistake', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 'dmr-test', level: 'info', destination });
    log.info({ payload: 'eyJhbGciOi.secret', body: { content: 'citizen question' }, nested: { privateKey: 'k' } }, 'oops');
    const line = lines.join('');
    expect(line).not.toContain('eyJhbGciOi.secret');
    expect(line).not.toContain('citizen question');
    expect(JSON.parse(line).nested.privateKey).toBe('[redacted]');
  });
});

describe('fixedShapeLogger', () => {
  const fields = { msgId: 'm-1', senderId: 'agent-a', recipientId: 'agent-b', type: 'ChatMessage', result: 'delivered', durationMs: 1.5 };

  it('writes the same line as the logger it derives from, to the same destination, with its bindings', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 'dmr-test', level: 'info', destination })
      .child({ agentId: 'agent-b' })
      .child({ component: 'delivery' });
    log.info(fields, 'message outcome');
    fixedShapeLogger(log).info(fields, 'message outcome');
    expect(lines).toHaveLength(2);
    const [viaRedacting, viaFixed] = lines.map((line) => {
      const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      expect(typeof time).toBe('string');
      return rest;
    });
    expect(viaFixed).toEqual(viaRedacting);
    expect(Object.keys(viaFixed as object)).toEqual(Object.keys(viaRedacting as object));
    expect(viaFixed).toMatchObject({ level: 'info', name: 'dmr-test', agentId: 'agent-b', component: 'delivery', msgId: 'm-1' });
  });

  it('keeps the level of the logger it derives from', () => {
    const { lines, destination } = capture();
    const fixed = fixedShapeLogger(createLogger({ name: 'dmr-test', level: 'warn', destination }));
    fixed.info(fields, 'message outcome');
    expect(lines).toHaveLength(0);
    fixed.warn(fields, 'message outcome');
    expect(JSON.parse(lines[0] ?? '{}').level).toBe('warn');
  });
});
