// Issue 15, findings 15 and 16: the pure parts of the per-agent limits and of the registry trust rules.
import { generateKeyPairSync } from 'node:crypto';
import { buildPolicies, createLogger, DmrError, MESSAGES_EXCHANGE } from '@dmr/shared';
import type { Channel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { BrokerNack, QueueFullTranslator } from '../../src/amqp/index.js';
import { RateWindow } from '../../src/auth/index.js';
import { loadServerConfig } from '../../src/config/index.js';
import { preAuthServerOptions } from '../../src/gateway/connection-limits.js';
import { diffRegistry, judgeRegistryChange, parseRegistry, type RegistrySnapshot } from '../../src/registry/index.js';
import { InFlightCounter } from '../../src/routing/index.js';

const minimal = {
  CENTOPS_CONFIGURATION_URL: 'https://centops.example/agents',
  RABBITMQ_DEFAULT_HOST: '127.0.0.1',
  RABBITMQ_DEFAULT_PORT: '5672',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:15672',
  RABBITMQ_DEFAULT_USER: 'dmr',
  RABBITMQ_DEFAULT_PASS: 'secret',
  DMR_ALLOW_PLAINTEXT: 'true',
};

describe('InFlightCounter', () => {
  it('gives each key exactly max slots and forgets keys at zero', () => {
    const counter = new InFlightCounter(3);
    expect([1, 2, 3, 4].map(() => counter.tryAcquire('a'))).toEqual([true, true, true, false]);
    expect(counter.tryAcquire('b')).toBe(true);
    counter.release('a');
    expect(counter.tryAcquire('a')).toBe(true);
    expect(counter.tryAcquire('a')).toBe(false);
    for (let i = 0; i < 3; i++) counter.release('a');
    expect(counter.countOf('a')).toBe(0);
  });
});

describe('RateWindow', () => {
  it('allows limit hits per window per key, then refuses until the window ends', () => {
    let now = 1_000;
    const window = new RateWindow(2, 60_000, () => now);
    expect([window.hit('x'), window.hit('x'), window.hit('x')]).toEqual([true, true, false]);
    expect(window.isExhausted('x')).toBe(true);
    expect(window.hit('y')).toBe(true);
    expect(window.retryAfterMs('x')).toBe(60_000);
    now += 59_999;
    expect(window.hit('x')).toBe(false);
    now += 1;
    expect(window.isExhausted('x')).toBe(false);
    expect(window.hit('x')).toBe(true);
  });

  it('never refuses with limit 0, and forgets the oldest keys beyond maxKeys', () => {
    const off = new RateWindow(0, 60_000);
    expect(Array.from({ length: 100 }, () => off.hit('x')).every(Boolean)).toBe(true);
    const bounded = new RateWindow(1, 60_000, () => 0, 2);
    bounded.hit('a');
    bounded.hit('b');
    bounded.hit('c');
    // 'a' was evicted, so it starts a fresh window
    expect(bounded.isExhausted('a')).toBe(false);
    expect(bounded.isExhausted('c')).toBe(true);
  });
});

describe('gateway limits config', () => {
  it('has defaults and keeps pre-authentication frames below the authenticated limit', () => {
    const limits = loadServerConfig(minimal).gateway.limits;
    expect(limits).toEqual({
      maxInFlightPerAgent: 256,
      handshakesPerAgentPerMinute: 60,
      handshakeFailuresPerAddressPerMinute: 60,
      preAuthMaxBytes: 65_536,
      preAuthTimeoutMs: 10_000,
    });
    expect(preAuthServerOptions(limits, 1_000_000)).toEqual({ maxHttpBufferSize: 65_536, connectTimeout: 10_000 });
    expect(preAuthServerOptions(limits, 8192)).toMatchObject({ maxHttpBufferSize: 8192 });
    expect(() => loadServerConfig({ ...minimal, DMR_MAX_IN_FLIGHT_PER_AGENT: '0' })).toThrow(/DMR_MAX_IN_FLIGHT_PER_AGENT/);
  });

  it('bounds every dmr queue with max-length and reject-publish', () => {
    const policies = buildPolicies({ ...loadServerConfig(minimal).policies, maxQueueLength: 7 });
    for (const policy of policies) expect(policy.definition).toMatchObject({ 'max-length': 7, overflow: 'reject-publish' });
    const unbounded = buildPolicies({
      messageTtlMs: 1,
      deadLetterTtlMs: 1,
      validationFailuresTtlMs: 1,
      deliveryLimit: 1,
      maxQueueLength: 0,
    });
    for (const policy of unbounded) expect(policy.definition).not.toHaveProperty('max-length');
  });
});

describe('registry trust config', () => {
  it('refuses an http:// registry unless DMR_ALLOW_INSECURE_REGISTRY=true', () => {
    const http = { ...minimal, CENTOPS_CONFIGURATION_URL: 'http://centops.example/agents' };
    expect(() => loadServerConfig(http)).toThrow(/CENTOPS_CONFIGURATION_URL uses http:\/\/.*DMR_ALLOW_INSECURE_REGISTRY/);
    expect(loadServerConfig({ ...http, DMR_ALLOW_INSECURE_REGISTRY: 'true' }).registry.trust.allowInsecure).toBe(true);
  });

  it('refuses TLS verification turned off process-wide unless allowed, and then really turns it off', () => {
    const off = { ...minimal, NODE_TLS_REJECT_UNAUTHORIZED: '0' };
    expect(() => loadServerConfig(off)).toThrow(/NODE_TLS_REJECT_UNAUTHORIZED=0/);
    expect(loadServerConfig({ ...off, DMR_ALLOW_INSECURE_REGISTRY: 'true' }).registry.trust.verifyTls).toBe(false);
    expect(loadServerConfig(minimal).registry.trust).toMatchObject({ verifyTls: true, allowEmpty: false, maxRemovedShare: 0.5 });
    // a file:// registry needs no transport security
    expect(() => loadServerConfig({ ...off, CENTOPS_CONFIGURATION_URL: 'file:///tmp/a.json' })).not.toThrow();
  });

  it('reads CENTOPS_MAX_REMOVED_SHARE as a share from 0 to 1', () => {
    expect(loadServerConfig({ ...minimal, CENTOPS_MAX_REMOVED_SHARE: '0.25' }).registry.trust.maxRemovedShare).toBe(0.25);
    for (const bad of ['1.5', '-1', 'half']) {
      expect(() => loadServerConfig({ ...minimal, CENTOPS_MAX_REMOVED_SHARE: bad })).toThrow(/CENTOPS_MAX_REMOVED_SHARE/);
    }
  });
});

describe('judgeRegistryChange', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const snapshot = (ids: string[]): RegistrySnapshot => {
    const parsed = parseRegistry({
      response: ids.map((id) => ({ id, name: id, authentication_certificate: key, created_at: 'x', updated_at: 'x' })),
    });
    if (!parsed.ok) throw new Error('bad fixture');
    return parsed.value;
  };
  const rules = { allowEmpty: false, maxRemovedShare: 0.5 };
  const judge = (before: RegistrySnapshot | undefined, after: RegistrySnapshot, overrides = {}, isForced = false) =>
    judgeRegistryChange(before, after, diffRegistry(before ?? new Map(), after), { ...rules, ...overrides }, isForced);

  it('refuses an empty registry unless allowed, at first load too', () => {
    expect(judge(undefined, snapshot([]))).toMatchObject({ ok: false, code: 'DMR_REGISTRY_EMPTY' });
    expect(judge(snapshot(['a', 'b']), snapshot([]))).toMatchObject({ ok: false, code: 'DMR_REGISTRY_EMPTY' });
    expect(judge(snapshot(['a', 'b']), snapshot([]), { allowEmpty: true })).toEqual({ ok: true });
  });

  it('refuses removing more than the share at once unless forced', () => {
    const four = snapshot(['a', 'b', 'c', 'd']);
    expect(judge(four, snapshot(['a', 'b']))).toEqual({ ok: true });
    expect(judge(four, snapshot(['a', 'e', 'f']))).toMatchObject({ ok: false, code: 'DMR_REGISTRY_MASS_REMOVAL' });
    expect(judge(four, snapshot(['a']), {}, true)).toEqual({ ok: true });
    expect(judge(four, snapshot(['a']), { maxRemovedShare: 1 })).toEqual({ ok: true });
    expect(judge(undefined, snapshot(['a']))).toEqual({ ok: true });
  });
});

describe('QueueFullTranslator', () => {
  const nack = () => new DmrError('DMR_ROUTE_PUBLISH_FAILED', 'nack', { cause: new BrokerNack() });
  const translator = (failure: Error, depth: number) => {
    const channel = { checkQueue: async () => ({ messageCount: depth }), once: () => undefined };
    const port = { publish: async () => Promise.reject(failure), openChannel: async () => channel as unknown as Channel };
    return new QueueFullTranslator(port, 5, createLogger({ name: 'test', level: 'silent' }));
  };

  it('turns a nack on a full agent queue into DMR_ROUTE_QUEUE_FULL', async () => {
    await expect(translator(nack(), 6).publish(MESSAGES_EXCHANGE, 'agent-b', Buffer.from('x'))).rejects.toMatchObject({
      code: 'DMR_ROUTE_QUEUE_FULL',
    });
  });

  it('keeps every other failure as it was: a nack below the limit, a lost channel, another exchange', async () => {
    await expect(translator(nack(), 2).publish(MESSAGES_EXCHANGE, 'b', Buffer.from('x'))).rejects.toMatchObject({
      code: 'DMR_ROUTE_PUBLISH_FAILED',
    });
    const lost = new DmrError('DMR_ROUTE_PUBLISH_FAILED', 'channel closed');
    await expect(translator(lost, 99).publish(MESSAGES_EXCHANGE, 'b', Buffer.from('x'))).rejects.toBe(lost);
    await expect(translator(nack(), 99).publish('dmr.validation-failures', '', Buffer.from('x'))).rejects.toMatchObject({
      code: 'DMR_ROUTE_PUBLISH_FAILED',
    });
  });
});
