// What the server does with each kind of agent ack, timeout and limit, and what the dead-letter reason says:
// the edges the lifecycle tests do not pin down (found by mutation testing, docs/testing.md).
import { decideDelivery, parseDeliveryAck } from '@dmr/server';
import { describe, expect, it } from 'vitest';

describe('parseDeliveryAck', () => {
  it.each([
    [null, 'ack is null, not an object'],
    [[{ status: 'ok' }], 'ack is an array, not an object'],
    [undefined, 'ack is missing, not an object'],
    ['ok', 'ack is a string, not an object'],
    [{ status: 'fine' }, 'status is neither "ok" nor "error"'],
    [{ status: 'error', errors: 'boom' }, 'errors is a string, not an array'],
    [{ status: 'error', errors: 5 }, 'errors is a number, not an array'],
    [{ status: 'error', errors: [{ type: '' }] }, 'an entry of errors has no string type'],
    [{ status: 'error', errors: [null] }, 'an entry of errors has no string type'],
  ])('reads %j as invalid: %s', (raw, invalid) => {
    expect(parseDeliveryAck(raw)).toEqual({ invalid });
  });

  it('reads an error ack with errors null or absent as an error without details', () => {
    expect(parseDeliveryAck({ status: 'error', errors: null })).toEqual({ status: 'error' });
    expect(parseDeliveryAck({ status: 'error' })).toEqual({ status: 'error' });
  });

  it('keeps an error entry without a message, with an empty message', () => {
    expect(parseDeliveryAck({ status: 'error', errors: [{ type: 'DMR_X', message: 7 }] })).toEqual({
      status: 'error',
      errors: [{ type: 'DMR_X', message: '' }],
    });
  });
});

describe('decideDelivery', () => {
  it('says in the reason what was malformed about an invalid ack', () => {
    expect(decideDelivery({ invalid: 'status is neither "ok" nor "error"' }, 0, 5)).toEqual({
      action: 'retry',
      code: 'DMR_DELIVERY_INVALID_ACK',
      reason: 'recipient agent sent a malformed ack: status is neither "ok" nor "error"',
      isAttempt: true,
    });
  });

  it('retries an error ack without details as DMR_INTERNAL_ERROR, saying so', () => {
    expect(decideDelivery({ status: 'error' }, 0, 5)).toEqual({
      action: 'retry',
      code: 'DMR_INTERNAL_ERROR',
      reason: 'DMR_INTERNAL_ERROR: agent reported an error without details',
      isAttempt: true,
    });
  });

  it('retries when only some errors are permanent (a transient one may clear), with every error in the reason', () => {
    const ack = {
      status: 'error' as const,
      errors: [
        { type: 'DMR_CRYPTO_DECRYPT_FAILED', message: 'bad key' },
        { type: 'DMR_LINK_TIMEOUT', message: 'down' },
      ],
    };
    expect(decideDelivery(ack, 0, 5)).toEqual({
      action: 'retry',
      code: 'DMR_CRYPTO_DECRYPT_FAILED',
      reason: 'DMR_CRYPTO_DECRYPT_FAILED: bad key; DMR_LINK_TIMEOUT: down',
      isAttempt: true,
    });
  });

  it('never dead-letters on the count when the delivery limit is 0 (unlimited)', () => {
    expect(decideDelivery({ invalid: 'x' }, 1000, 0)).toMatchObject({ action: 'retry', isAttempt: true });
  });

  it('dead-letters on the last allowed attempt with the limit and the last failure in the reason', () => {
    expect(decideDelivery({ invalid: 'x' }, 3, 5)).toMatchObject({ action: 'retry' });
    expect(decideDelivery({ invalid: 'x' }, 4, 5)).toEqual({
      action: 'dead-letter',
      code: 'DMR_DELIVERY_INVALID_ACK',
      reason: 'delivery limit 5 reached; last failure: recipient agent sent a malformed ack: x',
    });
  });

  describe('a timeout', () => {
    it('without an age is a failed attempt that spends the limit', () => {
      expect(decideDelivery({ timeout: true }, 0, 5)).toEqual({
        action: 'retry',
        code: 'DMR_ROUTE_ACK_TIMEOUT',
        reason: 'recipient agent did not acknowledge in time',
        isAttempt: true,
      });
      expect(decideDelivery({ timeout: true }, 4, 5)).toMatchObject({ action: 'dead-letter' });
    });

    it('with an age is retried without spending the limit until the TTL (plus grace) has passed', () => {
      const retry = {
        action: 'retry',
        code: 'DMR_ROUTE_ACK_TIMEOUT',
        reason: 'recipient agent did not acknowledge in time; delivering again',
        isAttempt: false,
      };
      expect(decideDelivery({ timeout: true }, 4, 5, { ageMs: 999, ttlMs: 1000 })).toEqual(retry);
      expect(decideDelivery({ timeout: true }, 0, 5, { ageMs: 1000, ttlMs: 1000 })).toEqual({
        action: 'dead-letter',
        code: 'DMR_ROUTE_ACK_TIMEOUT',
        reason: 'recipient agent did not acknowledge within the message TTL (1000 ms)',
      });
      expect(decideDelivery({ timeout: true }, 0, 5, { ageMs: 1400, ttlMs: 1000, graceMs: 500 })).toEqual(retry);
      expect(decideDelivery({ timeout: true }, 0, 5, { ageMs: 1500, ttlMs: 1000, graceMs: 500 })).toMatchObject({
        action: 'dead-letter',
      });
    });

    it('with a TTL of 0 (none) is retried whatever its age', () => {
      expect(decideDelivery({ timeout: true }, 0, 5, { ageMs: 10 ** 9, ttlMs: 0 })).toMatchObject({ action: 'retry', isAttempt: false });
    });
  });
});

describe('acks of either implementation (issue 16)', () => {
  it("dead-letters seed 003's DECRYPTION_FAILED at once as DMR_CRYPTO_DECRYPT_FAILED, keeping its type in the reason", () => {
    const ack = parseDeliveryAck({ status: 'error', errors: [{ type: 'DECRYPTION_FAILED', message: 'cannot decrypt' }] });
    expect(decideDelivery(ack, 0, 10)).toEqual({
      action: 'dead-letter',
      code: 'DMR_CRYPTO_DECRYPT_FAILED',
      reason: 'DECRYPTION_FAILED: cannot decrypt',
    });
  });

  it("retries seed 003's DELIVERY_FAILED as DMR_DELIVERY_ENDPOINT_FAILED up to the limit", () => {
    const ack = parseDeliveryAck({ status: 'error', errors: [{ type: 'DELIVERY_FAILED', message: 'endpoint down' }] });
    expect(decideDelivery(ack, 0, 3)).toEqual({
      action: 'retry',
      code: 'DMR_DELIVERY_ENDPOINT_FAILED',
      reason: 'DELIVERY_FAILED: endpoint down',
      isAttempt: true,
    });
    expect(decideDelivery(ack, 2, 3)).toMatchObject({ action: 'dead-letter', code: 'DMR_DELIVERY_ENDPOINT_FAILED' });
  });

  it("reads a DMR agent's code before its seed-003 type", () => {
    const permanent = parseDeliveryAck({
      status: 'error',
      errors: [{ type: 'DECRYPTION_FAILED', message: 'no metadata', code: 'DMR_CRYPTO_UNBOUND_METADATA' }],
    });
    expect(decideDelivery(permanent, 0, 10)).toEqual({
      action: 'dead-letter',
      code: 'DMR_CRYPTO_UNBOUND_METADATA',
      reason: 'DMR_CRYPTO_UNBOUND_METADATA: no metadata',
    });
    const stopping = parseDeliveryAck({
      status: 'error',
      errors: [{ type: 'DELIVERY_FAILED', message: 'stopping', code: 'DMR_LIFECYCLE_SHUTTING_DOWN' }],
    });
    expect(decideDelivery(stopping, 0, 10)).toMatchObject({ action: 'retry', code: 'DMR_LIFECYCLE_SHUTTING_DOWN', isAttempt: false });
  });

  it('retries an unknown type as DMR_DELIVERY_UNKNOWN_ERROR up to the limit, then dead-letters it with the type in the reason', () => {
    const ack = parseDeliveryAck({ status: 'error', errors: [{ type: 'WHATEVER', message: 'm', code: 7 }] });
    expect(ack).toEqual({ status: 'error', errors: [{ type: 'WHATEVER', message: 'm' }] });
    expect(decideDelivery(ack, 0, 2)).toMatchObject({ action: 'retry', code: 'DMR_DELIVERY_UNKNOWN_ERROR', isAttempt: true });
    expect(decideDelivery(ack, 1, 2)).toEqual({
      action: 'dead-letter',
      code: 'DMR_DELIVERY_UNKNOWN_ERROR',
      reason: 'delivery limit 2 reached; last failure: WHATEVER: m',
    });
  });

  it('bounds the code an agent sends like its type', () => {
    const ack = parseDeliveryAck({ status: 'error', errors: [{ type: 'T', message: 'm', code: `DMR_${'X'.repeat(500)}` }] });
    expect('errors' in ack && ack.errors?.[0]?.code).toHaveLength(64);
  });
});
