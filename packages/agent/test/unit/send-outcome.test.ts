import { describe, expect, it } from 'vitest';
import { errorBody } from '../../src/api/index.js';
import { interpretSendAck, retryAfterSecondsOf } from '../../src/link/index.js';

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

describe('interpretSendAck messages (what the sending caller is told)', () => {
  it('says a malformed acknowledgement was refused', () => {
    expect(interpretSendAck(null)).toEqual({
      ok: false,
      code: 'DMR_LINK_REJECTED',
      message: 'the DMR server rejected the message: the DMR server sent a malformed acknowledgement',
      serverCode: 'DMR_INTERNAL_ERROR',
      reason: 'the DMR server sent a malformed acknowledgement',
    });
    expect(interpretSendAck({ status: 'maybe' })).toMatchObject({ reason: 'the DMR server sent a malformed acknowledgement' });
  });

  it('reads an error ack with an empty or non-string code as DMR_INTERNAL_ERROR, and an empty reason as the code', () => {
    for (const error of ['', 42, undefined]) {
      expect(interpretSendAck({ status: 'error', error, reason: 'why' })).toEqual({
        ok: false,
        code: 'DMR_LINK_REJECTED',
        message: 'the DMR server rejected the message: why',
        serverCode: 'DMR_INTERNAL_ERROR',
        reason: 'why',
      });
    }
    for (const reason of ['', 7]) {
      expect(interpretSendAck({ status: 'error', error: 'DMR_ROUTE_PUBLISH_FAILED', reason })).toMatchObject({
        reason: 'DMR_ROUTE_PUBLISH_FAILED',
      });
    }
  });

  it('tells the caller a retry-later refusal is temporary', () => {
    expect(interpretSendAck({ status: 'error', error: 'DMR_ROUTE_QUEUE_FULL', reason: 'queue at its limit' })).toEqual({
      ok: false,
      code: 'DMR_ROUTE_QUEUE_FULL',
      message: 'the DMR server could not take the message now: queue at its limit',
      serverCode: 'DMR_ROUTE_QUEUE_FULL',
      reason: 'queue at its limit',
    });
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

describe('retry-later server refusals (issue 15, finding 15)', () => {
  it('passes DMR_ROUTE_AGENT_BUSY and DMR_ROUTE_QUEUE_FULL through as their own transient codes', () => {
    for (const code of ['DMR_ROUTE_AGENT_BUSY', 'DMR_ROUTE_QUEUE_FULL'] as const) {
      expect(interpretSendAck({ status: 'error', error: code, reason: 'later' })).toMatchObject({
        ok: false,
        code,
        serverCode: code,
        reason: 'later',
      });
      expect(errorBody(code, 'later').statusCode).toBe(503);
      expect(retryAfterSecondsOf(code)).toBeGreaterThan(0);
    }
    expect(retryAfterSecondsOf('DMR_ROUTE_PUBLISH_FAILED')).toBeUndefined();
    expect(retryAfterSecondsOf('__proto__')).toBeUndefined();
  });
});

describe('policy refusals of the server (issue 19)', () => {
  it('passes DMR_POLICY_DENIED through as its own code, so the caller gets 403 with the rule and version', () => {
    const reason = 'policy version 7 denies: rule no-police-to-tax (DENY_RULE)';
    expect(interpretSendAck({ status: 'error', error: 'DMR_POLICY_DENIED', reason })).toEqual({
      ok: false,
      code: 'DMR_POLICY_DENIED',
      message: `the DMR server refused the message: ${reason}`,
      serverCode: 'DMR_POLICY_DENIED',
      reason,
    });
    expect(errorBody('DMR_POLICY_DENIED', 'denied').statusCode).toBe(403);
    expect(retryAfterSecondsOf('DMR_POLICY_DENIED')).toBeUndefined();
  });

  it('passes DMR_POLICY_UNAVAILABLE through as a transient 503 with Retry-After (fail closed, nothing queued)', () => {
    expect(interpretSendAck({ status: 'error', error: 'DMR_POLICY_UNAVAILABLE', reason: 'OPA timed out' })).toMatchObject({
      ok: false,
      code: 'DMR_POLICY_UNAVAILABLE',
      serverCode: 'DMR_POLICY_UNAVAILABLE',
    });
    expect(errorBody('DMR_POLICY_UNAVAILABLE', 'later').statusCode).toBe(503);
    expect(retryAfterSecondsOf('DMR_POLICY_UNAVAILABLE')).toBe(1);
  });
});
