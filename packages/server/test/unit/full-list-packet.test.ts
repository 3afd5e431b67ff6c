import { AGENT_NAMESPACE, type AgentInfo, EVENTS } from '@dmr/shared';
import { Encoder, PacketType } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
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
    const packet = new FullListPacket();
    const first = packet.encode(agents);
    expect(packet.encode(agents)).toBe(first);
    const next = Object.freeze([...agents, { ...agents[1], id: 'agent-c' } as AgentInfo]);
    expect(packet.encode(next)).toContain('agent-c');
  });
});
