// The OPA sidecar engine's pure parts: the bounded LRU decision cache (version-aware) and the strict reading of
// OPA's `result` (anything off-contract must fail closed).
import type { PolicyDecision, PolicyInput } from '@dmr/shared/policy';
import { describe, expect, it } from 'vitest';
import { DecisionCache, decisionCacheKey, readOpaDecision } from '../../src/policy/index.js';

const allowAt = (policyVersion: number): PolicyDecision => ({ allow: true, reason: 'ALLOW_RULE', ruleId: 'r', policyVersion });

function input(overrides: { senderGroups?: string[]; minuteOfDay?: number; unixMs?: number; serial?: string } = {}): PolicyInput {
  return {
    sender: {
      id: 's',
      institution: 'I',
      groups: overrides.senderGroups ?? ['g'],
      certificate: { subject: 'CN=s', serial: overrides.serial ?? '01' },
    },
    recipient: { id: 'r', institution: '', groups: [] },
    message: { type: 'T' },
    time: { unixMs: overrides.unixMs ?? 0, weekday: 'mon', minuteOfDay: overrides.minuteOfDay ?? 0 },
  };
}

describe('DecisionCache', () => {
  it('evicts the least recently used entry beyond its size', () => {
    const cache = new DecisionCache(2);
    cache.put('a', allowAt(1), cache.generation);
    cache.put('b', allowAt(1), cache.generation);
    expect(cache.get('a')).toEqual(allowAt(1));
    cache.put('c', allowAt(1), cache.generation);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual(allowAt(1));
    expect(cache.get('c')).toEqual(allowAt(1));
    expect(cache.size).toBe(2);
  });

  it('size 0 caches nothing', () => {
    const cache = new DecisionCache(0);
    cache.put('a', allowAt(1), cache.generation);
    expect(cache.get('a')).toBeUndefined();
  });

  it('drops every entry when an answer carries another policyVersion', () => {
    const cache = new DecisionCache(10);
    cache.put('a', allowAt(1), cache.generation);
    cache.put('b', allowAt(2), cache.generation);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toEqual(allowAt(2));
  });

  it('does not store an answer to a request started before clear()', () => {
    const cache = new DecisionCache(10);
    const started = cache.generation;
    cache.clear();
    cache.put('a', allowAt(1), started);
    expect(cache.get('a')).toBeUndefined();
  });

  it('after expectVersion(n) answers of older versions are not cached', () => {
    const cache = new DecisionCache(10);
    cache.put('a', allowAt(1), cache.generation);
    cache.expectVersion(2);
    expect(cache.get('a')).toBeUndefined();
    cache.put('a', allowAt(1), cache.generation);
    expect(cache.get('a')).toBeUndefined();
    cache.put('a', allowAt(2), cache.generation);
    expect(cache.get('a')).toEqual(allowAt(2));
  });

  it('refuses a negative or fractional size', () => {
    expect(() => new DecisionCache(-1)).toThrow(RangeError);
    expect(() => new DecisionCache(1.5)).toThrow(RangeError);
  });
});

describe('decisionCacheKey', () => {
  it('ignores the exact instant and the certificate, not the minute or the registry groups', () => {
    const key = decisionCacheKey(input());
    expect(decisionCacheKey(input({ unixMs: 59_000, serial: '02' }))).toBe(key);
    expect(decisionCacheKey(input({ minuteOfDay: 1 }))).not.toBe(key);
    expect(decisionCacheKey(input({ senderGroups: ['g', 'h'] }))).not.toBe(key);
  });
});

describe('readOpaDecision', () => {
  it.each([
    [{ allow: true, reason: 'NO_POLICY', policyVersion: 0 }],
    [{ allow: false, reason: 'DEFAULT_DENY', policyVersion: 3 }],
    [{ allow: true, reason: 'DEFAULT_ALLOW', policyVersion: 3 }],
    [{ allow: true, reason: 'ALLOW_RULE', ruleId: 'a', policyVersion: 3 }],
    [{ allow: false, reason: 'DENY_RULE', ruleId: 'd', policyVersion: 3 }],
  ])('accepts %j', (result) => {
    expect(readOpaDecision(result)).toEqual({ decision: result });
  });

  it.each([
    ['undefined', undefined, 'no result object'],
    ['an array', [], 'no result object'],
    ['a string allow', { allow: 'true', reason: 'NO_POLICY', policyVersion: 0 }, 'allow is not a boolean'],
    ['an unknown reason', { allow: true, reason: 'MAYBE', policyVersion: 1 }, 'unknown reason "MAYBE"'],
    ['allow with DENY_RULE', { allow: true, reason: 'DENY_RULE', ruleId: 'd', policyVersion: 1 }, 'allow true contradicts DENY_RULE'],
    ['deny with DEFAULT_ALLOW', { allow: false, reason: 'DEFAULT_ALLOW', policyVersion: 1 }, 'allow false contradicts DEFAULT_ALLOW'],
    ['a rule reason without ruleId', { allow: true, reason: 'ALLOW_RULE', policyVersion: 1 }, 'ALLOW_RULE without a ruleId'],
    ['a default with a ruleId', { allow: false, reason: 'DEFAULT_DENY', ruleId: 'x', policyVersion: 1 }, 'DEFAULT_DENY with a ruleId'],
    ['a negative version', { allow: false, reason: 'DEFAULT_DENY', policyVersion: -1 }, 'policyVersion is not an integer >= 0'],
    ['NO_POLICY with a version', { allow: true, reason: 'NO_POLICY', policyVersion: 2 }, 'NO_POLICY with a policyVersion other than 0'],
    ['an extra member', { allow: true, reason: 'NO_POLICY', policyVersion: 0, why: 'x' }, 'unexpected member why'],
  ])('refuses %s', (_what, result, problem) => {
    expect(readOpaDecision(result)).toEqual({ problem });
  });
});
