// The one error class and the queue names every component derives from an agent id.
import { agentDeadLetterQueueName, agentQueueName, DmrError, toDmrError } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

describe('DmrError and toDmrError', () => {
  it('names itself DmrError and takes its status from the catalog', () => {
    const error = new DmrError('DMR_CONFIG_INVALID', 'bad');
    expect(error.name).toBe('DmrError');
    expect(String(error)).toBe('DmrError: bad');
    expect(error.httpStatus).toBe(500);
  });

  it('wraps anything thrown with the fallback code, its message and the original as cause; keeps a DmrError', () => {
    const original = new TypeError('boom');
    const wrapped = toDmrError(original, 'DMR_CRYPTO_KEY_INVALID');
    expect(wrapped).toMatchObject({ code: 'DMR_CRYPTO_KEY_INVALID', message: 'boom' });
    expect(wrapped.cause).toBe(original);
    expect(toDmrError('text')).toMatchObject({ code: 'DMR_INTERNAL_ERROR', message: 'text', cause: 'text' });
    const dmr = new DmrError('DMR_CONFIG_INVALID', 'kept');
    expect(toDmrError(dmr)).toBe(dmr);
  });
});

describe('agent queue names', () => {
  it('are dmr.agent.<id> and dmr.agent.<id>.dlq', () => {
    expect(agentQueueName('agent-a')).toBe('dmr.agent.agent-a');
    expect(agentDeadLetterQueueName('agent-a')).toBe('dmr.agent.agent-a.dlq');
  });
});
