// The compiled built-in engine against the naive reference evaluator (test/support/policy-reference.ts) on
// generated cases: thousands of inputs over hundreds of documents, aimed at window boundaries, empty and nested groups.

import { compilePolicy, decidePolicy, explainPolicy, parsePolicyDocument } from '@dmr/shared/policy';
import { describe, expect, it } from 'vitest';
import { generatePolicyCases, referenceDecide } from '../support/policy-reference.js';

describe('the compiled engine decides as the reference evaluator', () => {
  it('on 300 generated documents × 40 inputs', () => {
    let denied = 0;
    let byRule = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const cases = generatePolicyCases(seed, 40);
      const parsed = parsePolicyDocument(cases.document);
      expect(parsed, `seed ${seed}`).toMatchObject({ ok: true });
      const compiled = compilePolicy(cases.document, cases.version);
      for (const input of cases.inputs) {
        const expected = referenceDecide(cases.document, cases.version, input);
        const actual = decidePolicy(compiled, input);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) expect({ seed, input, actual }).toEqual({ seed, input, actual: expected });
        expect(explainPolicy(compiled, input).decision).toEqual(expected);
        if (!actual.allow) denied++;
        if (actual.ruleId !== undefined) byRule++;
      }
    }
    // The generator must exercise both outcomes and both rule and default decisions.
    expect(denied).toBeGreaterThan(1000);
    expect(denied).toBeLessThan(11_000);
    expect(byRule).toBeGreaterThan(3000);
  });

  it('generates the same cases for the same seed', () => {
    expect(generatePolicyCases(7, 20)).toEqual(generatePolicyCases(7, 20));
    expect(generatePolicyCases(7, 20)).not.toEqual(generatePolicyCases(8, 20));
  });
});
