import { generateKeyPairSync } from 'node:crypto';
import {
  brokerUrl,
  buildFailureRecord,
  decideDelivery,
  diffRegistry,
  loadServerConfig,
  parseRegistry,
  partialListOf,
  validateInbound,
} from '@dmr/server';
import { buildPolicies } from '@dmr/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeFiles, type PemPair, selfSigned } from '../helpers/pem-files.js';

const jwe = 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn';
const wire = {
  id: 'm1',
  timestamp: '2024-01-15T10:30:00.000Z',
  senderId: 'agent-a',
  recipientId: 'agent-b',
  type: 'ChatMessage',
  payload: jwe,
};
const context = {
  authenticatedAgentId: 'agent-a',
  isKnownAgent: (id: string) => id === 'agent-b' || id === 'agent-a',
  maxMessageBytes: 4096,
};

describe('validateInbound', () => {
  it('accepts a well-formed message from its authenticated sender and serialises it once', () => {
    const result = validateInbound(wire, context);
    expect(result.ok).toBe(true);
    if (result.ok) expect(JSON.parse(result.value.body.toString())).toEqual(wire);
  });

  it.each([
    [{ ...wire, senderId: 'agent-b' }, 'DMR_VALIDATION_SENDER_MISMATCH', 'senderId'],
    [{ ...wire, recipientId: 'agent-z' }, 'DMR_VALIDATION_UNKNOWN_RECIPIENT', 'recipientId'],
    [{ ...wire, timestamp: '15/01/2024' }, 'DMR_VALIDATION_FAILED', 'timestamp'],
    [{ ...wire, type: 'Other' }, 'DMR_VALIDATION_FAILED', 'type'],
    [{ ...wire, payload: { content: 'plain' } }, 'DMR_VALIDATION_FAILED', 'payload'],
    [{ ...wire, payload: `${jwe}${'A'.repeat(5000)}` }, 'DMR_VALIDATION_TOO_LARGE', ''],
  ])('refuses %# with %s at %s', (message, code, path) => {
    const result = validateInbound(message, context);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(code);
      expect(result.errors.map((e) => e.path)).toContain(path);
    }
  });

  it('records refusals without the payload, which may be plaintext', () => {
    const raw = { ...wire, payload: { content: 'TOP SECRET' } };
    const refusal = { ok: false as const, code: 'DMR_VALIDATION_FAILED' as const, errors: [{ path: 'payload', message: 'bad' }] };
    const record = buildFailureRecord(raw, 'agent-a', refusal, new Date(0)).toString();
    expect(record).not.toContain('TOP SECRET');
    expect(JSON.parse(record)).toMatchObject({ authenticatedAgentId: 'agent-a', code: 'DMR_VALIDATION_FAILED', message: { id: 'm1' } });
  });
});

describe('decideDelivery', () => {
  it('acks on ok', () => {
    expect(decideDelivery({ status: 'ok' }, 0, 5)).toEqual({ action: 'ack' });
  });

  it('dead-letters permanent failures at once', () => {
    const decision = decideDelivery(
      { status: 'error', errors: [{ type: 'DMR_CRYPTO_METADATA_MISMATCH', message: 'timestamp differs' }] },
      0,
      5,
    );
    expect(decision).toMatchObject({ action: 'dead-letter', code: 'DMR_CRYPTO_METADATA_MISMATCH' });
  });

  it('retries transient failures until the last attempt, then dead-letters with the reason', () => {
    const reply = { status: 'error' as const, errors: [{ type: 'DMR_DELIVERY_ENDPOINT_FAILED', message: 'HTTP 500' }] };
    expect(decideDelivery(reply, 0, 3).action).toBe('retry');
    expect(decideDelivery(reply, 1, 3).action).toBe('retry');
    const last = decideDelivery(reply, 2, 3);
    expect(last).toMatchObject({ action: 'dead-letter', code: 'DMR_DELIVERY_ENDPOINT_FAILED' });
    if (last.action !== 'ack') expect(last.reason).toMatch(/delivery limit 3 reached; last failure: .*HTTP 500/);
    expect(decideDelivery({ timeout: true }, 0, 3)).toMatchObject({ action: 'retry', code: 'DMR_ROUTE_ACK_TIMEOUT' });
  });

  it('does not spend the delivery limit on an unanswered delivery, and dead-letters it once older than the TTL', () => {
    const young = { ageMs: 40_000, ttlMs: 300_000 };
    expect(decideDelivery({ timeout: true }, 9, 3, young)).toMatchObject({
      action: 'retry',
      code: 'DMR_ROUTE_ACK_TIMEOUT',
      isAttempt: false,
    });
    const reply = { status: 'error' as const, errors: [{ type: 'DMR_DELIVERY_ENDPOINT_FAILED', message: 'HTTP 500' }] };
    expect(decideDelivery(reply, 0, 3, young)).toMatchObject({ action: 'retry', isAttempt: true });
    const old = decideDelivery({ timeout: true }, 0, 3, { ageMs: 300_000, ttlMs: 300_000 });
    expect(old).toMatchObject({ action: 'dead-letter', code: 'DMR_ROUTE_ACK_TIMEOUT' });
    if (old.action !== 'ack') expect(old.reason).toMatch(/within the message TTL \(300000 ms\)/);
  });

  it('treats unknown error types as transient so nothing is dropped early', () => {
    expect(decideDelivery({ status: 'error', errors: [{ type: 'SOMETHING_NEW', message: '?' }] }, 0, 5).action).toBe('retry');
  });
});

function publicPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

function entry(id: string, pem: string, name = id) {
  return { id, name, authentication_certificate: pem, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' };
}

describe('registry', () => {
  const keyA = publicPem();
  const keyB = publicPem();

  it('refuses a document whole when one entry is bad or ids repeat', () => {
    const bad = parseRegistry({ response: [entry('a', keyA), entry('b', 'not a key')] });
    expect(bad.ok ? 'ok' : bad.errors[0]?.path).toBe('response.1.authentication_certificate');
    const duplicate = parseRegistry({ response: [entry('a', keyA), entry('a', keyB)] });
    expect(duplicate.ok ? 'ok' : duplicate.code).toBe('DMR_REGISTRY_INVALID');
    expect(parseRegistry({ agents: [] }).ok).toBe(false);
  });

  it('diffs added, removed, re-keyed and renamed agents, and builds the partial list', () => {
    const before = parseRegistry({ response: [entry('a', keyA), entry('b', keyB), entry('c', keyA)] });
    const after = parseRegistry({ response: [entry('a', keyB), entry('b', keyB, 'B renamed'), entry('d', keyA)] });
    if (!before.ok || !after.ok) throw new Error('fixtures must parse');
    const diff = diffRegistry(before.value, after.value);
    expect(diff.added.map((a) => a.info.id)).toEqual(['d']);
    expect(diff.rekeyed.map((a) => a.info.id)).toEqual(['a']);
    expect(diff.updated.map((a) => a.info.id)).toEqual(['b']);
    expect(diff.removed.map((a) => a.id)).toEqual(['c']);
    const partial = partialListOf(diff);
    expect(partial.find((a) => a.id === 'c')).toMatchObject({ deleted: true });
    expect(partial.find((a) => a.id === 'd')).toMatchObject({ authenticationCertificate: keyA });
    expect(partial.find((a) => a.id === 'c')).not.toHaveProperty('disabled');
    // an agent removed because the control plane disabled it is named as such, for agents that read the marker
    expect(partialListOf(diff, (id) => id === 'c').find((a) => a.id === 'c')).toMatchObject({ deleted: true, disabled: true });
  });
});

describe('policies', () => {
  it('give DLQs and validation failures their own TTL by outranking the agent-queue pattern', () => {
    const policies = buildPolicies({ messageTtlMs: 1, deadLetterTtlMs: 2, validationFailuresTtlMs: 3, deliveryLimit: 4 });
    const [agent, dlq, failures] = policies;
    expect(agent?.definition).toMatchObject({ 'message-ttl': 1, 'delivery-limit': 4, 'dead-letter-exchange': 'dmr.dlx' });
    expect(new RegExp(agent?.pattern ?? '').test('dmr.agent.x.dlq')).toBe(true);
    expect(new RegExp(dlq?.pattern ?? '').test('dmr.agent.x.dlq')).toBe(true);
    expect(new RegExp(dlq?.pattern ?? '').test('dmr.agent.x')).toBe(false);
    expect(dlq?.priority).toBeGreaterThan(agent?.priority ?? 0);
    expect(failures?.definition).toMatchObject({ 'message-ttl': 3 });
  });
});

describe('loadServerConfig', () => {
  const minimal = {
    CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
    RABBITMQ_DEFAULT_HOST: '127.0.0.1',
    RABBITMQ_DEFAULT_PORT: '5672',
    RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:15672',
    RABBITMQ_DEFAULT_USER: 'dmr',
    RABBITMQ_DEFAULT_PASS: 'secret',
    DMR_ALLOW_PLAINTEXT: 'true',
  };
  // the TLS files are read and parsed at start (issue 15, finding 18): real PEMs, made now, behind a fake file system
  let server: PemPair;
  let relay: PemPair;
  let ca: PemPair;
  beforeAll(async () => {
    [server, relay, ca] = await Promise.all([selfSigned('server'), selfSigned('relay'), selfSigned('ca')]);
  });
  const pemFiles = () =>
    fakeFiles({ '/s.pem': server.cert, '/s.key': server.key, '/ca.pem': ca.cert, '/relay.pem': relay.cert, '/relay.key': relay.key });

  it("applies seed 003's defaults and freezes the result", () => {
    const config = loadServerConfig(minimal);
    expect(config.port).toBe(5000);
    expect(config.policies).toEqual({
      messageTtlMs: 300_000,
      deadLetterTtlMs: 86_400_000,
      validationFailuresTtlMs: 86_400_000,
      deliveryLimit: 10,
      maxQueueLength: 100_000,
      returnLimit: 50,
    });
    expect(config.registry.cronTime).toBe('*/30 * * * *');
    expect(Object.isFrozen(config.broker)).toBe(true);
  });

  it('is secure by default: refuses to start without TLS unless plaintext is allowed explicitly', () => {
    const { DMR_ALLOW_PLAINTEXT: _allow, ...secure } = minimal;
    expect(() => loadServerConfig(secure)).toThrow(/TLS is not configured/);
    const tls = loadServerConfig(
      { ...secure, DMR_TLS_CERT_FILE: '/s.pem', DMR_TLS_KEY_FILE: '/s.key', DMR_TLS_CA_FILE: '/ca.pem' },
      pemFiles(),
    );
    expect(tls.tls).toMatchObject({ certFile: '/s.pem', crlReloadIntervalMs: 2000 });
    expect(() => loadServerConfig({ ...secure, DMR_TLS_CERT_FILE: '/s.pem' })).toThrow(/must be set together/);
  });

  it('logs in to RabbitMQ with the certificate alone under EXTERNAL', () => {
    const config = loadServerConfig(
      {
        ...minimal,
        RABBITMQ_DEFAULT_USER: '',
        RABBITMQ_DEFAULT_PASS: '',
        RABBITMQ_AUTH_MECHANISM: 'EXTERNAL',
        RABBITMQ_APPLY_POLICIES: 'false',
        RABBITMQ_TLS_CA_FILE: '/ca.pem',
        RABBITMQ_TLS_CERT_FILE: '/relay.pem',
        RABBITMQ_TLS_KEY_FILE: '/relay.key',
      },
      pemFiles(),
    );
    expect(brokerUrl(config.broker)).toBe('amqps://127.0.0.1:5672/%2F');
    expect(() => loadServerConfig({ ...minimal, RABBITMQ_AUTH_MECHANISM: 'EXTERNAL' })).toThrow(/EXTERNAL needs/);
  });

  it('names every bad variable', () => {
    expect(() =>
      loadServerConfig({ ...minimal, RABBITMQ_DEFAULT_PORT: 'x', CENTOPS_CONFIGURATION_URL: 'ftp://a', RABBITMQ_DEFAULT_USER: '' }),
    ).toThrow(/RABBITMQ_DEFAULT_PORT.*RABBITMQ_DEFAULT_USER is required.*CENTOPS_CONFIGURATION_URL must use/s);
  });
});
