import { AGENT_NAMESPACE, type AgentInfo, EVENTS } from '@dmr/shared';
import { Encoder, PacketType } from 'socket.io-parser';
import { describe, expect, it, vi } from 'vitest';
import { FullListPacket } from '../../src/gateway/full-list-packet.js';

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

describe('FullListPacket', () => {
  it('is exactly the packet socket.io encodes for socket.emit(full-list, [agents])', () => {
    const [expected] = new Encoder().encode({ type: PacketType.EVENT, nsp: AGENT_NAMESPACE, data: [EVENTS.fullList, [agents]] });
    expect(new FullListPacket().encode(agents)).toBe(expected);
  });

  it('encodes once per list and again for a new list', () => {
    // count the serialisations themselves: comparing the strings by value cannot tell a cached packet from a re-encoded one
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const encodes = () => stringify.mock.calls.filter(([value]) => Array.isArray(value) && value[0] === EVENTS.fullList).length;
      const packet = new FullListPacket();
      const first = packet.encode(agents);
      expect(encodes()).toBe(1);
      expect(packet.encode(agents)).toBe(first);
      expect(packet.encode(agents)).toBe(first);
      expect(encodes(), 'the same list is not serialised again').toBe(1);
      const next = Object.freeze([...agents, { ...agents[1], id: 'agent-c' } as AgentInfo]);
      expect(packet.encode(next)).toContain('agent-c');
      expect(encodes(), 'a new list is serialised once').toBe(2);
      packet.encode(next);
      expect(encodes()).toBe(2);
    } finally {
      stringify.mockRestore();
    }
  });
});
