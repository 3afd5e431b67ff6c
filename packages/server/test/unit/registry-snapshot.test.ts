// What a refused registry document tells the operator, which changes count as an update, and when a diff is
// empty (a sync with no change pushes nothing to agents). Found by mutation testing (docs/testing.md).
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diffRegistry, isEmptyDiff, judgeRegistryChange, parseRegistry, type RegistrySnapshot } from '../../src/registry/index.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const entry = (id: string, overrides: Record<string, string> = {}) => ({
  id,
  name: id,
  authentication_certificate: key,
  created_at: '2024-01-01T00:00:00.000Z',
  updated_at: '2024-01-01T00:00:00.000Z',
  ...overrides,
});
const snapshot = (...entries: Array<ReturnType<typeof entry>>): RegistrySnapshot => {
  const parsed = parseRegistry({ response: entries });
  if (!parsed.ok) throw new Error(`bad fixture: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
};

describe('parseRegistry refusals', () => {
  it('names the index and id of a duplicate and of a reserved id', () => {
    expect(parseRegistry({ response: [entry('a'), entry('a')] })).toEqual({
      ok: false,
      code: 'DMR_REGISTRY_INVALID',
      errors: [{ path: 'response.1.id', message: 'duplicate agent id a' }],
    });
    const reserved = parseRegistry({ response: [entry('a'), entry('ops-user')] }, ['ops-user']);
    expect(reserved).toMatchObject({ ok: false, code: 'DMR_REGISTRY_INVALID', errors: [{ path: 'response.1.id' }] });
  });
});

describe('diffRegistry', () => {
  it('counts a change of updated_at alone, or of the name alone, as an update; an identical entry as nothing', () => {
    const before = snapshot(entry('a'), entry('b'), entry('c'));
    const after = snapshot(entry('a', { updated_at: '2024-02-01T00:00:00.000Z' }), entry('b', { name: 'B' }), entry('c'));
    const diff = diffRegistry(before, after);
    expect(diff.updated.map((agent) => agent.info.id)).toEqual(['a', 'b']);
    expect([diff.added, diff.rekeyed, diff.removed]).toEqual([[], [], []]);
  });
});

describe('isEmptyDiff', () => {
  it('is true only when nothing was added, updated, re-keyed or removed', () => {
    const one = snapshot(entry('a'));
    expect(isEmptyDiff(diffRegistry(one, snapshot(entry('a'))))).toBe(true);
    expect(isEmptyDiff(diffRegistry(one, snapshot(entry('a'), entry('b'))))).toBe(false);
    expect(isEmptyDiff(diffRegistry(one, snapshot(entry('a', { name: 'A' }))))).toBe(false);
    expect(isEmptyDiff(diffRegistry(snapshot(entry('a'), entry('b')), one))).toBe(false);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(isEmptyDiff(diffRegistry(one, snapshot(entry('a', { authentication_certificate: otherKey }))))).toBe(false);
    // changes of different kinds never cancel out: one agent replaced by another, one updated while another is re-keyed
    expect(isEmptyDiff(diffRegistry(one, snapshot(entry('b'))))).toBe(false);
    const two = snapshot(entry('a'), entry('b'));
    expect(isEmptyDiff(diffRegistry(two, snapshot(entry('a', { name: 'A' }), entry('b', { authentication_certificate: otherKey }))))).toBe(
      false,
    );
    expect(isEmptyDiff(diffRegistry(one, snapshot(entry('a', { name: 'A' }), entry('c'))))).toBe(false);
  });
});

describe('judgeRegistryChange reasons (what the operator reads in the log)', () => {
  const rules = { allowEmpty: false, maxRemovedShare: 0.5 };
  it('names the setting that allows an empty registry, and the counts and the way to force a mass removal', () => {
    const four = snapshot(entry('a'), entry('b'), entry('c'), entry('d'));
    const empty = new Map() as RegistrySnapshot;
    expect(judgeRegistryChange(four, empty, diffRegistry(four, empty), rules, false)).toEqual({
      ok: false,
      code: 'DMR_REGISTRY_EMPTY',
      reason: 'the agent registry lists no agent (CENTOPS_ALLOW_EMPTY_REGISTRY is not set)',
    });
    const one = snapshot(entry('a'));
    expect(judgeRegistryChange(four, one, diffRegistry(four, one), rules, false)).toEqual({
      ok: false,
      code: 'DMR_REGISTRY_MASS_REMOVAL',
      reason:
        'the agent registry would remove 3 of 4 agents at once, more than CENTOPS_MAX_REMOVED_SHARE 0.5; send SIGHUP to force this change once',
    });
  });
});

describe('capabilities (issue 16)', () => {
  const withCapabilities = (id: string, capabilities: string[]) => ({ ...entry(id), capabilities });
  const parse = (...entries: unknown[]) => {
    const parsed = parseRegistry({ response: entries });
    if (!parsed.ok) throw new Error(`bad fixture: ${JSON.stringify(parsed.errors)}`);
    return parsed.value;
  };

  it('pass through to the agent list when listed, and leave an entry without them exactly as before', () => {
    const parsed = parse(withCapabilities('a', ['jwe:RSA-OAEP-256']), entry('b'));
    expect(parsed.get('a')?.info.capabilities).toEqual(['jwe:RSA-OAEP-256']);
    expect(Object.keys(parsed.get('b')?.info ?? {})).toEqual(['id', 'name', 'authenticationCertificate', 'createdAt', 'updatedAt']);
  });

  it('count a change of capabilities alone as an update, and the same set in another order as none', () => {
    const before = parse(withCapabilities('a', ['x', 'jwe:RSA-OAEP-256']), entry('b'));
    expect(diffRegistry(before, parse(withCapabilities('a', ['jwe:RSA-OAEP-256', 'x']), entry('b'))).updated).toEqual([]);
    const after = parse(withCapabilities('a', ['x']), withCapabilities('b', ['jwe:RSA-OAEP-256']));
    expect(diffRegistry(before, after).updated.map((agent) => agent.info.id)).toEqual(['a', 'b']);
  });
});
