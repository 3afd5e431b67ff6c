// Issue 15, finding 11: restarts are not delivery attempts. A stopping agent's refusal spends nothing of the
// delivery limit, and RabbitMQ's own delivery-limit (which counts returns: channel closes by restarts) is its own setting.
import { decideDelivery, loadServerConfig } from '@dmr/server';
import { buildPolicies } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

const refusal = { status: 'error' as const, errors: [{ type: 'DMR_LIFECYCLE_SHUTTING_DOWN', message: 'the agent is shutting down' }] };

describe('shutdown refusals', () => {
  it('are retried without spending an attempt, even on the last attempt the limit allows', () => {
    for (const earlierAttempts of [0, 2, 9]) {
      expect(decideDelivery(refusal, earlierAttempts, 3)).toMatchObject({
        action: 'retry',
        code: 'DMR_LIFECYCLE_SHUTTING_DOWN',
        isAttempt: false,
      });
    }
  });

  it('do not shield another transient failure in the same ack from the limit', () => {
    const mixed = { status: 'error' as const, errors: [...refusal.errors, { type: 'DMR_DELIVERY_ENDPOINT_FAILED', message: 'HTTP 500' }] };
    expect(decideDelivery(mixed, 2, 3)).toMatchObject({ action: 'dead-letter' });
  });
});

describe('RabbitMQ delivery-limit', () => {
  it('is the return limit, apart from the delivery limit the server counts', () => {
    const [agent] = buildPolicies({ messageTtlMs: 1, deadLetterTtlMs: 2, validationFailuresTtlMs: 3, deliveryLimit: 2, returnLimit: 50 });
    expect(agent?.definition).toMatchObject({ 'delivery-limit': 50 });
  });

  it('comes from RABBITMQ_RETURN_LIMIT (default 50) and refuses a value below 1', () => {
    const env = {
      CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
      RABBITMQ_DEFAULT_HOST: '127.0.0.1',
      RABBITMQ_DEFAULT_PORT: '5672',
      RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:15672',
      RABBITMQ_DEFAULT_USER: 'dmr',
      RABBITMQ_DEFAULT_PASS: 'secret',
      DMR_ALLOW_PLAINTEXT: 'true',
    };
    expect(loadServerConfig(env).policies).toMatchObject({ deliveryLimit: 10, returnLimit: 50 });
    expect(loadServerConfig({ ...env, RABBITMQ_RETURN_LIMIT: '7' }).policies.returnLimit).toBe(7);
    expect(() => loadServerConfig({ ...env, RABBITMQ_RETURN_LIMIT: '0' })).toThrow(/RABBITMQ_RETURN_LIMIT/);
  });
});
