// The agent list versions a server keeps and what it sends on connect to an agent holding one of them: nothing,
// the delta from that version (removed agents as `deleted: true`), or the full list. Pure: no socket, no registry file.
import { generateKeyPairSync } from 'node:crypto';
import { agentListVersion } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import { AgentListHistory, diffRegistry, internUnchanged, parseRegistry, type RegistrySnapshot } from '../../src/registry/index.js';

const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const keys = new Map<string, string>();
const keyOf = (id: string) => {
  let key = keys.get(id);
  if (!key) {
    key = pem();
    keys.set(id, key);
  }
  return key;
};
const entry = (id: string, overrides: Record<string, string> = {}) => ({
  id,
  name: id,
  authentication_certificate: keyOf(id),
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  ...overrides,
});
const snapshot = (...entries: Array<ReturnType<typeof entry>>): RegistrySnapshot => {
  const parsed = parseRegistry({ response: entries });
  if (!parsed.ok) throw new Error(`bad fixture: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
};

describe('agentListVersion', () => {
  it('is the same for the same agents in any order, and differs when any listed field differs', () => {
    const list = [...snapshot(entry('a'), entry('b'), entry('c')).values()].map((agent) => agent.info);
    const version = agentListVersion(list);
    expect(version).toMatch(/^[0-9a-f]{64}$/);
    expect(agentListVersion([...list].reverse())).toBe(version);
    for (const field of ['name', 'authenticationCertificate', 'createdAt', 'updatedAt', 'id'] as const) {
      const changed = list.map((info, index) => (index === 1 ? { ...info, [field]: `${info[field]}x` } : info));
      expect(agentListVersion(changed), field).not.toBe(version);
    }
    expect(agentListVersion(list.slice(1))).not.toBe(version);
    expect(agentListVersion([])).not.toBe(version);
  });
});

describe('AgentListHistory.plan', () => {
  const others = ['f', 'g', 'h', 'i'].map((id) => entry(id));
  const v1 = snapshot(entry('a'), entry('b'), entry('c'), entry('d'), ...others);
  const v2 = snapshot(
    entry('a', { updated_at: '2026-02-01T00:00:00.000Z' }),
    entry('b'),
    entry('c', { authentication_certificate: pem() }),
    entry('e'),
    ...others,
  );

  it('is nothing for the current version, the delta from a kept version, the full list for anything else', () => {
    const history = new AgentListHistory();
    expect(history.plan(undefined)).toBeUndefined();
    const first = history.record(v1);
    expect(history.plan(first.version)).toEqual({ kind: 'current', version: first.version });
    const second = history.record(v2);
    expect(second.version).not.toBe(first.version);
    const delta = history.plan(first.version);
    expect(delta).toMatchObject({ kind: 'delta', version: second.version, baseVersion: first.version });
    const entries = delta?.kind === 'delta' ? delta.entries : [];
    // updated a, re-keyed c, added e, removed d; unchanged agents are not sent
    expect(entries.map((info) => [info.id, info.deleted ?? false]).sort()).toEqual([
      ['a', false],
      ['c', false],
      ['d', true],
      ['e', false],
    ]);
    expect(entries.find((info) => info.id === 'c')?.authenticationCertificate).toBe(v2.get('c')?.info.authenticationCertificate);
    expect(history.plan(second.version)).toEqual({ kind: 'current', version: second.version });
    for (const unknown of [undefined, 'f'.repeat(64), 'not a version']) {
      expect(history.plan(unknown)).toEqual({ kind: 'full', version: second.version, agents: second.agents, disabled: [] });
    }
    expect(second.agents.map((info) => info.id)).toEqual(['a', 'b', 'c', 'e', 'f', 'g', 'h', 'i']);
  });

  it('names the disabled agents in the full list and marks them disabled in deltas; a new disabled set alone makes new plans', () => {
    const history = new AgentListHistory();
    const first = history.record(v1);
    // d leaves the list because the control plane disabled it; z is disabled and was never listed (no key)
    const second = history.record(v2);
    history.setDisabled(['z', 'd']);
    const full = history.plan(undefined);
    expect(full).toEqual({ kind: 'full', version: second.version, agents: second.agents, disabled: ['d', 'z'] });
    const delta = history.plan(first.version);
    if (delta?.kind !== 'delta') throw new Error(`expected a delta, got ${delta?.kind}`);
    expect(delta.entries.find((info) => info.id === 'd')).toMatchObject({ deleted: true, disabled: true });
    expect(delta.entries.filter((info) => info.disabled)).toHaveLength(1);
    // the same set again keeps the cached plan; another set (same list, same version) replaces it
    history.setDisabled(['d', 'z']);
    expect(history.plan(undefined)).toBe(full);
    history.setDisabled([]);
    expect(history.plan(undefined)).toEqual({ kind: 'full', version: second.version, agents: second.agents, disabled: [] });
    const unmarked = history.plan(first.version);
    expect(unmarked?.kind === 'delta' && unmarked.entries.some((info) => info.disabled)).toBe(false);
  });

  it('applying the delta to the base list gives exactly the current version', () => {
    const history = new AgentListHistory();
    const first = history.record(v1);
    const second = history.record(v2);
    const plan = history.plan(first.version);
    if (plan?.kind !== 'delta') throw new Error(`expected a delta, got ${plan?.kind}`);
    const held = new Map(first.agents.map((info) => [info.id, info]));
    for (const info of plan.entries) {
      if (info.deleted) held.delete(info.id);
      else held.set(info.id, info);
    }
    expect(agentListVersion(held.values())).toBe(second.version);
  });

  it('serves the full list when the delta would be as long as the list', () => {
    const history = new AgentListHistory();
    const first = history.record(snapshot(entry('a'), entry('b')));
    const second = history.record(snapshot(entry('c'), entry('d')));
    expect(history.plan(first.version)).toEqual({ kind: 'full', version: second.version, agents: second.agents, disabled: [] });
  });

  it('keeps at most maxVersions versions: an older one gets the full list', () => {
    const history = new AgentListHistory(3);
    const versions = ['2026-01', '2026-02', '2026-03', '2026-04'].map((month) =>
      history.record(snapshot(entry('a', { updated_at: month }), entry('b'), entry('c'))),
    );
    const [oldest, ...kept] = versions;
    expect(history.plan(oldest?.version)?.kind).toBe('full');
    for (const version of kept.slice(0, -1)) expect(history.plan(version.version)?.kind).toBe('delta');
  });

  it('caches one plan per kept version (callers cache the encoding by identity) and forgets them on a new version', () => {
    const history = new AgentListHistory();
    const first = history.record(v1);
    history.record(v2);
    const plan = history.plan(first.version);
    expect(history.plan(first.version)).toBe(plan);
    expect(history.plan('0'.repeat(64))).toBe(history.plan(undefined));
    history.record(snapshot(entry('a'), entry('b'), entry('c'), entry('d'), entry('f')));
    expect(history.plan(first.version)).not.toBe(plan);
  });
});

describe('diffRegistry and internUnchanged', () => {
  it('counts a change of created_at alone as an update (every field of the list version is a change)', () => {
    const diff = diffRegistry(snapshot(entry('a')), snapshot(entry('a', { created_at: '2025-01-01T00:00:00.000Z' })));
    expect(diff.updated.map((agent) => agent.info.id)).toEqual(['a']);
  });

  it('reuses the previous objects of unchanged agents only', () => {
    const before = snapshot(entry('a'), entry('b'));
    const after = snapshot(entry('a'), entry('b', { name: 'B' }), entry('c'));
    const interned = internUnchanged(before, after);
    expect(interned.get('a')).toBe(before.get('a'));
    expect(interned.get('b')).toBe(after.get('b'));
    expect(interned.get('c')).toBe(after.get('c'));
    expect([...interned.keys()]).toEqual(['a', 'b', 'c']);
  });
});
