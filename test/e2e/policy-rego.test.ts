// Issue 19: deploy/policy/dmr.rego compiles (opa check --strict), its Rego unit tests all pass (opa test), and Rego
// that does not compile is refused with a message naming the file and line. Runs the pinned OPA from set-up.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRegoIndex, type PolicyDocument, parsePolicyDocument } from '@dmr/shared/policy';
import { afterAll, describe, expect, it } from 'vitest';
import { POLICY_DIR, runOpa } from '../support/opa.js';

/** One entry of `opa test --format json`. */
interface OpaTestResult {
  readonly package: string;
  readonly name: string;
  readonly fail?: boolean;
  readonly error?: unknown;
  readonly skip?: boolean;
}

const scratch = mkdtempSync(join(tmpdir(), 'dmr-rego-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/policy/dmr.rego', () => {
  it('passes opa check --strict', () => {
    const run = runOpa(['check', '--strict', POLICY_DIR]);
    expect(run.stderr + run.stdout).toBe('');
    expect(run.status).toBe(0);
  });

  it('passes every Rego unit test (opa test), and there are more than 30 of them', () => {
    const run = runOpa(['test', POLICY_DIR, '--format', 'json']);
    const results = JSON.parse(run.stdout) as OpaTestResult[];
    const failed = results.filter((result) => result.fail === true || result.error !== undefined || result.skip === true);
    expect(failed.map((result) => result.name)).toEqual([]);
    expect(run.status).toBe(0);
    expect(results.every((result) => result.package === 'data.dmr_test')).toBe(true);
    expect(results.length).toBeGreaterThan(30);
  });

  it('opa test -v prints PASS for each test and no FAIL', () => {
    const run = runOpa(['test', POLICY_DIR, '-v']);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toMatch(/\bFAIL\b|\bERROR\b/);
    expect(run.stdout.match(/: PASS \(/g)?.length).toBeGreaterThan(30);
  });

  it("the indexed tests' fixture holds the index buildRegoIndex builds for its document (no drift)", () => {
    const fixture = JSON.parse(readFileSync(join(POLICY_DIR, 'testdata/indexed/data.json'), 'utf8')) as {
      policy: PolicyDocument;
      index: unknown;
    };
    const parsed = parsePolicyDocument(fixture.policy);
    if (!parsed.ok) throw new Error(`fixture policy refused: ${parsed.field}: ${parsed.message}`);
    expect(fixture.index).toEqual(buildRegoIndex(parsed.document));
  });

  it('Rego that does not compile is refused, naming the file and line', () => {
    const broken = join(scratch, 'broken.rego');
    const lines = readFileSync(join(POLICY_DIR, 'dmr.rego'), 'utf8').split('\n');
    const at = lines.findIndex((line) => line.startsWith('rule_matches(rule) if {'));
    lines.splice(at + 1, 0, '\tundefined_function(rule)');
    writeFileSync(broken, lines.join('\n'));
    const run = runOpa(['check', '--strict', broken]);
    expect(run.status).not.toBe(0);
    expect(run.stderr + run.stdout).toContain(`broken.rego:${at + 2}`);
    expect(run.stderr + run.stdout).toMatch(/undefined function undefined_function/);
  });
});
