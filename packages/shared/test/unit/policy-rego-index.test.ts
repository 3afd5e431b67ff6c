// buildRegoIndex: the JSON rule index deploy/policy/dmr.rego looks candidate rules up in (docs/policy.md "Rego and
// OPA"). The decisions it leads to are compared with the built-in engine in test/e2e/policy-equivalence.test.ts.
import { buildRegoIndex, type PolicyDocument, parsePolicyDocument } from '@dmr/shared/policy';
import { describe, expect, it } from 'vitest';

function parsed(document: object): PolicyDocument {
  const result = parsePolicyDocument({ format: 'dmr-policy/v1', defaultDecision: 'deny', ...document });
  if (!result.ok) throw new Error(`${result.field}: ${result.message}`);
  return result.document;
}

describe('buildRegoIndex', () => {
  it('maps each selector key to ascending rule indices, each once, per side and by how many selectors a rule has', () => {
    const index = buildRegoIndex(
      parsed({
        rules: [
          { id: 'r0', effect: 'allow', from: { agents: ['a', 'a'], groups: ['g'] } },
          { id: 'r1', effect: 'deny', to: { institutions: ['I'] } },
          { id: 'r2', effect: 'deny' },
          { id: 'r3', effect: 'allow', from: { agents: ['a'] }, to: { agents: ['b'], groups: ['g'] } },
        ],
      }),
    );
    expect(index.from).toEqual({ 'a:a': [3] });
    expect(index.to).toEqual({ 'a:b': [3], 'g:g': [3] });
    expect(index.fromOnly).toEqual({ 'a:a': [0], 'g:g': [0] });
    expect(index.toOnly).toEqual({ 'i:I': [1] });
    expect(index.any).toEqual([2]);
    expect(index.groups).toEqual({});
  });

  it('expands policy-group membership transitively per agent, institution and group', () => {
    const index = buildRegoIndex(
      parsed({
        groups: { top: { groups: ['mid'] }, mid: { agents: ['a'], groups: ['registry'] }, other: { institutions: ['I'] }, empty: {} },
        rules: [{ id: 'r0', effect: 'allow', from: { groups: ['top'] } }],
      }),
    );
    expect(index.groups).toEqual({ 'a:a': ['mid', 'top'], 'g:mid': ['top'], 'g:registry': ['mid', 'top'], 'i:I': ['other'] });
  });

  it('is plain JSON and deterministic', () => {
    const document = parsed({ rules: [{ id: 'r0', effect: 'allow', from: { agents: ['z', 'b'] } }] });
    const index = buildRegoIndex(document);
    expect(JSON.parse(JSON.stringify(index))).toEqual(index);
    expect(JSON.stringify(buildRegoIndex(document))).toBe(JSON.stringify(index));
    expect(Object.keys(index.fromOnly)).toEqual(['a:b', 'a:z']);
  });
});
