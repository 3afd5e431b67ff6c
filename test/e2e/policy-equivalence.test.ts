// Issue 19: the three engines decide identically. The built-in engine (decidePolicy over compilePolicy), the `opa`
// engine (a real OPA server running deploy/policy/dmr.rego) and the `opa-wasm` engine (the same Rego built to wasm)
// run on the same generated cases (policy-core's deterministic generatePolicyCases: nested and empty groups,
// registry groups, deny over allow, windows on and around their boundaries, wrap past midnight) plus hand-made
// edge documents. Every decision must be identical: allow, reason, ruleId and policyVersion.
import { createOpaSidecarEngine, createOpaWasmEngine, type OpaSidecarEngine, type OpaWasmEngine } from '@dmr/server';
import {
  buildRegoIndex,
  compilePolicy,
  decidePolicy,
  type PolicyDecision,
  type PolicyDocument,
  type PolicyInput,
  parsePolicyDocument,
} from '@dmr/shared/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePolicyCases, referenceDecide } from '../../packages/shared/test/support/policy-reference.js';
import { type OpaServer, POLICY_DIR, POLICY_WASM_FILE, startOpaServer } from '../support/opa.js';

const SEEDS = Array.from({ length: 40 }, (_, i) => 1901 + i * 7);
const INPUTS_PER_SEED = 150;

let opa: OpaServer;
let sidecar: OpaSidecarEngine;
let wasm: OpaWasmEngine;

beforeAll(async () => {
  // OPA loads the shipped Rego from the file; each case's document is put into its data as the bundle would
  opa = await startOpaServer({ paths: [`${POLICY_DIR}/dmr.rego`] });
  sidecar = createOpaSidecarEngine({ url: opa.url, timeoutMs: 5000, cacheSize: 0 });
  wasm = await createOpaWasmEngine({ wasmFile: POLICY_WASM_FILE });
});

afterAll(async () => {
  await sidecar?.close();
  await wasm?.close();
  await opa?.stop();
});

/**
 * Puts `data.dmr` into the OPA server (what the bundle's data.json does: the document, its version and the rule
 * index, so the sidecar decides through dmr.rego's indexed lookup), or removes it (no policy).
 */
async function putOpaData(document: PolicyDocument | undefined, version: number): Promise<void> {
  const data = document === undefined ? {} : { policy: document, policyVersion: version, index: buildRegoIndex(document) };
  const response = await fetch(`${opa.url}/v1/data/dmr`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(data),
  });
  if (response.status !== 204) throw new Error(`PUT /v1/data/dmr: ${response.status} ${await response.text()}`);
}

/** Loads one document into all engines and returns each engine's decisions for `inputs`. */
async function decideEverywhere(document: PolicyDocument | undefined, version: number, inputs: readonly PolicyInput[]) {
  let compiled: ReturnType<typeof compilePolicy> | undefined;
  if (document !== undefined) {
    const parsed = parsePolicyDocument(document);
    if (!parsed.ok) throw new Error(`generated document refused: ${parsed.field}: ${parsed.message}`);
    compiled = compilePolicy(parsed.document, version);
  }
  await wasm.load(document === undefined ? undefined : { version, document });
  await sidecar.load(document === undefined ? undefined : { version, document });
  await putOpaData(document, version);
  const builtin = inputs.map((input) => decidePolicy(compiled, input));
  const inWasm = inputs.map((input) => wasm.decide(input));
  const viaOpa: PolicyDecision[] = [];
  for (let at = 0; at < inputs.length; at += 16) {
    viaOpa.push(...(await Promise.all(inputs.slice(at, at + 16).map((input) => sidecar.decide(input)))));
  }
  const reference = inputs.map((input) => referenceDecide(document, document === undefined ? 0 : version, input));
  return { builtin, inWasm, viaOpa, reference };
}

/** Plain objects (the built-in engine returns frozen shared ones), so toEqual compares members only. */
const plain = (decisions: readonly PolicyDecision[]) => decisions.map((decision) => ({ ...decision }));

function party(id: string, institution: string, groups: string[]) {
  return { id, institution, groups };
}

/** Every weekday at every minute around the window edges of `document`, for a few sender/recipient pairs. */
function sweep(parties: ReturnType<typeof party>[], minutes: readonly number[]): PolicyInput[] {
  const inputs: PolicyInput[] = [];
  for (const sender of parties)
    for (const recipient of parties)
      for (const weekday of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const)
        for (const minuteOfDay of minutes)
          inputs.push({
            sender: { ...sender, certificate: null },
            recipient,
            message: { type: 'ChatMessage' },
            time: { unixMs: 0, weekday, minuteOfDay },
          });
  return inputs;
}

// 8 groups deep (the most parsePolicyDocument accepts): level0 names level1 … names level7
const deepGroups = Object.fromEntries([
  ...Array.from({ length: 7 }, (_, i) => [`level${i}`, { groups: [`level${i + 1}`] }]),
  ['level7', { groups: ['registry-only'], institutions: ['DEEP'] }],
  ['hollow', {}],
]);

const EDGE_DOCUMENTS: ReadonlyArray<{ name: string; document: PolicyDocument | undefined; inputs: PolicyInput[] }> = [
  {
    name: 'no policy',
    document: undefined,
    inputs: sweep([party('a', '', [])], [0]),
  },
  {
    name: '8 deep nesting, empty group, registry group inside a policy group, deny over an earlier allow',
    document: {
      format: 'dmr-policy/v1',
      defaultDecision: 'allow',
      groups: deepGroups,
      rules: [
        { id: 'allow-hollow', effect: 'allow', from: { groups: ['hollow'] } },
        { id: 'allow-deep', effect: 'allow', from: { groups: ['level0'] }, to: { agents: ['b'] } },
        { id: 'deny-deep', effect: 'deny', to: { groups: ['level0'] }, window: { days: ['sat', 'sun'] } },
        { id: 'deny-night', effect: 'deny', from: { institutions: ['DEEP'] }, window: { days: ['mon'], from: '23:59', to: '00:01' } },
      ],
    } as PolicyDocument,
    inputs: sweep([party('a', 'DEEP', []), party('b', '', ['registry-only']), party('c', '', ['hollow'])], [0, 1, 2, 1438, 1439]),
  },
  {
    name: 'windows at their boundaries, wrapping and not',
    document: {
      format: 'dmr-policy/v1',
      defaultDecision: 'deny',
      rules: [
        { id: 'office', effect: 'allow', window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' } },
        { id: 'late', effect: 'allow', window: { from: '22:00', to: '00:00' } },
        { id: 'early', effect: 'deny', window: { from: '00:00', to: '00:30' } },
      ],
    } as PolicyDocument,
    inputs: sweep([party('x', 'I', [])], [0, 29, 30, 479, 480, 481, 1079, 1080, 1081, 1319, 1320, 1439]),
  },
];

describe('built-in, OPA sidecar and opa-wasm decide identically', () => {
  it(`on ${SEEDS.length} generated documents × ${INPUTS_PER_SEED} inputs`, async () => {
    let compared = 0;
    const reasons = new Set<string>();
    for (const seed of SEEDS) {
      const cases = generatePolicyCases(seed, INPUTS_PER_SEED);
      const { builtin, inWasm, viaOpa, reference } = await decideEverywhere(cases.document, cases.version, cases.inputs);
      expect(plain(builtin), `builtin vs reference, seed ${seed}`).toEqual(reference);
      expect(plain(inWasm), `opa-wasm vs builtin, seed ${seed}`).toEqual(plain(builtin));
      expect(plain(viaOpa), `OPA sidecar vs builtin, seed ${seed}`).toEqual(plain(builtin));
      for (const decision of builtin) reasons.add(decision.reason);
      compared += builtin.length;
    }
    expect(compared).toBe(SEEDS.length * INPUTS_PER_SEED);
    // the generated cases reach every reason a document can give
    expect([...reasons].sort()).toEqual(['ALLOW_RULE', 'DEFAULT_ALLOW', 'DEFAULT_DENY', 'DENY_RULE']);
  });

  it.each(EDGE_DOCUMENTS)('on edge document: $name', async ({ document, inputs }) => {
    const { builtin, inWasm, viaOpa, reference } = await decideEverywhere(document, 9, inputs);
    expect(plain(builtin)).toEqual(reference);
    expect(plain(inWasm)).toEqual(plain(builtin));
    expect(plain(viaOpa)).toEqual(plain(builtin));
  });
});
