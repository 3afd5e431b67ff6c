// The agent's side of versioned agent lists: it holds the list and its version across connections, applies a delta
// only from the version it holds and only when the result is the version the delta names, and answers anything
// else with a resync (reconnect for the full list). Seed 003 servers (no versions) keep the old behaviour.
import { type AgentInfo, agentListVersion } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import { AgentListState } from '../../src/link/agent-list-state.js';

const info = (id: string, overrides: Partial<AgentInfo> = {}): AgentInfo => ({
  id,
  name: id,
  authenticationCertificate: `pem-${id}`,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});
const V1_LIST = [info('a'), info('b'), info('c')];
const V1 = agentListVersion(V1_LIST);
const V2_LIST = [info('a', { authenticationCertificate: 'pem-a2' }), info('b'), info('d')];
const V2 = agentListVersion(V2_LIST);
const DELTA_1_2 = [info('a', { authenticationCertificate: 'pem-a2' }), info('d'), { ...info('c'), deleted: true }];

function holding(list: AgentInfo[], version: string): AgentListState {
  const state = new AgentListState();
  expect(state.applyFull([list, { version }])).toMatchObject({ action: 'apply', kind: 'full' });
  expect(state.version).toBe(version);
  return state;
}

describe('AgentListState', () => {
  it('holds the version of a versioned full list whose content matches it', () => {
    const state = new AgentListState();
    expect(state.version).toBeUndefined();
    expect(state.applyFull([V1_LIST, { version: V1 }])).toEqual({ action: 'apply', kind: 'full', agents: V1_LIST, disabled: [] });
    expect(state.version).toBe(V1);
  });

  it('passes on the disabled agents a full list names (well-formed ids only); they do not count toward the version', () => {
    const state = new AgentListState();
    const outcome = state.applyFull([V1_LIST, { version: V1, disabled: ['x', 'not an id!', 7, 'y'] }]);
    expect(outcome).toEqual({ action: 'apply', kind: 'full', agents: V1_LIST, disabled: ['x', 'y'] });
    expect(state.version).toBe(V1);
    expect(state.applyFull([V1_LIST, { version: V1, disabled: 'x' }])).toMatchObject({ disabled: [] });
  });

  it('applies a full list whose version does not match its content, but holds no version (the next connect gets the full list)', () => {
    const state = holding(V1_LIST, V1);
    expect(state.applyFull([V2_LIST, { version: V1 }])).toMatchObject({ action: 'apply', kind: 'full' });
    expect(state.version).toBeUndefined();
  });

  it('applies a delta from the version held and then holds the version it names (updated key, added, deleted)', () => {
    const state = holding(V1_LIST, V1);
    expect(state.applyPartial([DELTA_1_2, { version: V2, baseVersion: V1 }])).toEqual({
      action: 'apply',
      kind: 'partial',
      agents: DELTA_1_2,
      disabled: [],
    });
    expect(state.version).toBe(V2);
  });

  it('resyncs on a delta from another version, without a base, or that does not lead to the version it names, and keeps the list held', () => {
    const state = holding(V1_LIST, V1);
    const other = agentListVersion([info('x')]);
    expect(state.applyPartial([DELTA_1_2, { version: V2, baseVersion: other }]).action).toBe('resync');
    expect(state.applyPartial([DELTA_1_2, { version: V2 }]).action).toBe('resync');
    // a delta that misses the deletion does not reach V2
    expect(state.applyPartial([DELTA_1_2.slice(0, 2), { version: V2, baseVersion: V1 }]).action).toBe('resync');
    expect(state.version).toBe(V1);
    // the list held was not touched by the refused deltas: the right one still applies
    expect(state.applyPartial([DELTA_1_2, { version: V2, baseVersion: V1 }]).action).toBe('apply');
    expect(state.version).toBe(V2);
  });

  it('resyncs on an unversioned or malformed partial list while holding a version', () => {
    for (const data of [[DELTA_1_2], [DELTA_1_2, { version: 'nope', baseVersion: V1 }], 'garbage', [{}], null]) {
      expect(holding(V1_LIST, V1).applyPartial(data).action, JSON.stringify(data)).toBe('resync');
    }
  });

  it('resyncs on a versioned delta while holding no version', () => {
    const state = new AgentListState();
    state.applyFull([V1_LIST]);
    expect(state.applyPartial([DELTA_1_2, { version: V2, baseVersion: V1 }]).action).toBe('resync');
  });

  it('with a server that keeps no versions (seed 003): applies [agents] lists and deltas, ignores malformed ones', () => {
    const state = new AgentListState();
    expect(state.applyFull([V1_LIST])).toEqual({ action: 'apply', kind: 'full', agents: V1_LIST, disabled: [] });
    expect(state.version).toBeUndefined();
    expect(state.applyPartial([DELTA_1_2])).toEqual({ action: 'apply', kind: 'partial', agents: DELTA_1_2, disabled: [] });
    expect(state.applyPartial('garbage').action).toBe('ignore');
    expect(state.applyFull({ 0: V1_LIST }).action).toBe('ignore');
    expect(state.version).toBeUndefined();
  });

  it('forget() drops the version', () => {
    const state = holding(V1_LIST, V1);
    state.forget();
    expect(state.version).toBeUndefined();
  });
});
