// The list events a server writes on connect: byte for byte what socket.emit would write, encoded once per list or
// plan, and the handshake fields that choose between seed 003's full list and the versioned answers.
import { AGENT_NAMESPACE, type AgentInfo, EVENTS } from '@dmr/shared';
import { Encoder, PacketType } from 'socket.io-parser';
import { describe, expect, it, vi } from 'vitest';
import { ListPackets } from '../../src/gateway/list-packets.js';
import { listRequestOf } from '../../src/gateway/list-request.js';
import type { ListPlan } from '../../src/registry/index.js';

const agents: readonly AgentInfo[] = Object.freeze([
  {
    id: 'agent-a',
    name: 'A "quoted" – ü',
    authenticationCertificate: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n',
    createdAt: 'c',
    updatedAt: 'u',
  },
  { id: 'agent-b', name: 'B', authenticationCertificate: 'pem', createdAt: 'c', updatedAt: 'u' },
]);
const V1 = 'a1'.repeat(32);
const V2 = 'b2'.repeat(32);
const emitted = (event: string, argument: unknown) =>
  new Encoder().encode({ type: PacketType.EVENT, nsp: AGENT_NAMESPACE, data: [event, argument] })[0];

describe('ListPackets', () => {
  it('writes seed 003 agents exactly what socket.emit(full-list, [agents]) writes: the list alone, as data[0]', () => {
    expect(new ListPackets().legacyFull(agents)).toBe(emitted(EVENTS.fullList, [agents]));
  });

  it('writes versioned agents the full list or the delta with its meta as the second element, and nothing when current', () => {
    const packets = new ListPackets();
    const full: ListPlan = { kind: 'full', version: V2, agents, disabled: [] };
    expect(packets.forPlan(full)).toBe(emitted(EVENTS.fullList, [agents, { version: V2 }]));
    // agents the control plane disabled ride in the meta: the list (data[0]) and its version stay as they are
    const withDisabled: ListPlan = { kind: 'full', version: V2, agents, disabled: ['agent-x'] };
    expect(packets.forPlan(withDisabled)).toBe(emitted(EVENTS.fullList, [agents, { version: V2, disabled: ['agent-x'] }]));
    const entries = [agents[0] as AgentInfo, { ...(agents[1] as AgentInfo), deleted: true }];
    const delta: ListPlan = { kind: 'delta', version: V2, baseVersion: V1, entries };
    expect(packets.forPlan(delta)).toBe(emitted(EVENTS.partialList, [entries, { version: V2, baseVersion: V1 }]));
    expect(packets.forPlan({ kind: 'current', version: V2 })).toBeUndefined();
  });

  it('encodes once per list or plan and again for a new one', () => {
    // count the serialisations themselves: comparing the strings by value cannot tell a cached packet from a re-encoded one
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const encodes = () => stringify.mock.calls.filter(([value]) => Array.isArray(value) && value[0] === EVENTS.fullList).length;
      const packets = new ListPackets();
      const first = packets.legacyFull(agents);
      expect(packets.legacyFull(agents)).toBe(first);
      expect(encodes(), 'the same list is not serialised again').toBe(1);
      const next = Object.freeze([...agents, { ...agents[1], id: 'agent-c' } as AgentInfo]);
      expect(packets.legacyFull(next)).toContain('agent-c');
      expect(encodes(), 'a new list is serialised once').toBe(2);
      const plan: ListPlan = { kind: 'full', version: V1, agents: next, disabled: [] };
      packets.forPlan(plan);
      packets.forPlan(plan);
      expect(encodes(), 'a plan is serialised once').toBe(3);
    } finally {
      stringify.mockRestore();
    }
  });
});

describe('listRequestOf (untrusted handshake auth)', () => {
  it('is versioned only with the agent-list-delta feature, and takes only a well-formed version', () => {
    expect(listRequestOf({ token: 't' })).toEqual({ isVersioned: false });
    expect(listRequestOf({ features: ['delivery-deadline'], agentListVersion: V1 })).toEqual({ isVersioned: false });
    expect(listRequestOf({ features: ['agent-list-delta'] })).toEqual({ isVersioned: true, version: undefined });
    expect(listRequestOf({ features: ['delivery-deadline', 'agent-list-delta'], agentListVersion: V1 })).toEqual({
      isVersioned: true,
      version: V1,
    });
    for (const bad of [42, 'abc', V1.toUpperCase(), `${V1}0`, { v: V1 }, null]) {
      expect(listRequestOf({ features: ['agent-list-delta'], agentListVersion: bad })).toEqual({ isVersioned: true, version: undefined });
    }
    for (const auth of [undefined, null, 'agent-list-delta', { features: 'agent-list-delta' }]) {
      expect(listRequestOf(auth)).toEqual({ isVersioned: false });
    }
  });
});
