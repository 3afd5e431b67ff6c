import { describe, expect, it } from 'vitest';
import { errorBody } from '../../src/api/index.js';
import { interpretSendAck } from '../../src/link/index.js';

describe('interpretSendAck', () => {
  it('takes only status ok as durable', () => {
    expect(interpretSendAck({ status: 'ok' })).toEqual({ ok: true });
  });

  it('carries the server code and reason of an error ack', () => {
    expect(interpretSendAck({ status: 'error', error: 'DMR_ROUTE_PUBLISH_FAILED', reason: 'no confirm' })).toMatchObject({
      ok: false,
      code: 'DMR_LINK_REJECTED',
      serverCode: 'DMR_ROUTE_PUBLISH_FAILED',
      reason: 'no confirm',
    });
    expect(interpretSendAck({ status: 'error', error: 'DMR_VALIDATION_FAILED' })).toMatchObject({ reason: 'DMR_VALIDATION_FAILED' });
  });

  it('treats a malformed ack as a rejection, never as success', () => {
    for (const ack of [undefined, null, 'ok', { status: 'OK' }, {}]) {
      expect(interpretSendAck(ack)).toMatchObject({ ok: false, code: 'DMR_LINK_REJECTED', serverCode: 'DMR_INTERNAL_ERROR' });
    }
  });
});

describe('errorBody', () => {
  it('takes the HTTP status from the error catalog and omits absent members', () => {
    expect(errorBody('DMR_LINK_TIMEOUT', 'late')).toEqual({ statusCode: 504, code: 'DMR_LINK_TIMEOUT', message: 'late' });
    expect(errorBody('DMR_VALIDATION_FAILED', 'bad', { errors: [{ path: 'id', message: 'is required' }], reason: undefined })).toEqual({
      statusCode: 400,
      code: 'DMR_VALIDATION_FAILED',
      message: 'bad',
      errors: [{ path: 'id', message: 'is required' }],
    });
  });
});
