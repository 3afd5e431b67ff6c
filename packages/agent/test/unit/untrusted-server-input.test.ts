// Issue 15, the agent side: values from the server (agent lists, send acks) are untrusted too and must never
// throw out of the agent, whatever their shape.
import { describe, expect, it } from 'vitest';
import { fixedTexts, generatedTexts, nestedText } from '../../../../test/support/garbage.js';
import { AgentDirectory, interpretSendAck } from '../../src/link/index.js';

const entryTemplate = {
  id: 'agent-x',
  name: 'x',
  authenticationCertificate: 'not a key',
  createdAt: '2024-01-15T10:00:00.000Z',
  updatedAt: '2024-01-15T10:00:00.000Z',
};
const shapes = (): unknown[] => [...fixedTexts(), ...generatedTexts(21, 60, entryTemplate)].map((text) => JSON.parse(text));

describe('agent input from the server', () => {
  it('applies generated full and partial lists (and lists of them) without throwing, keeping no unusable entry', () => {
    // the most permissive policy: even it must keep no unusable entry
    const directory = new AgentDirectory({ trust: { anchors: [], legacyAgentIds: new Set(), allowUnverified: true } });
    const listedIds = new Set<string>();
    for (const shape of shapes()) {
      for (const list of [shape, [shape]]) {
        expect(directory.replaceAll(list).applied).toBe(0);
        directory.applyPartial(list);
        for (const entry of Array.isArray(list) ? list : []) {
          const id = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).id : undefined;
          if (typeof id === 'string') listedIds.add(id);
        }
      }
    }
    // refused entries stay listed as untrusted (a send to them fails with a reason); none may hold a usable key
    expect(listedIds.size).toBeGreaterThan(0);
    for (const id of listedIds) expect(directory.lookup(id).status).not.toBe('trusted');
    expect(directory.replaceAll(JSON.parse(nestedText(5000, 'array'))).applied).toBe(0);
  });

  it('reads every generated send ack as a rejection, never as proof of durability', () => {
    for (const shape of [undefined, ...shapes()]) {
      const outcome = interpretSendAck(shape);
      const isOk = typeof shape === 'object' && shape !== null && (shape as { status?: unknown }).status === 'ok';
      expect(outcome.ok).toBe(isOk);
    }
  });
});
