// Issue 19, the `opa-wasm` engine: deploy/policy/dmr.rego compiled by set-up (scripts/build-policy-wasm.sh) and
// evaluated in process. Decisions, a swap of the data (setData on a fresh instance), a refused document keeping
// the last good one, and a module that is not the policy's refused at start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpaWasmEngine, type OpaWasmEngine } from '@dmr/server';
import { DmrError } from '@dmr/shared';
import type { PolicyInput } from '@dmr/shared/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_WASM_FILE } from '../support/opa.js';

const tax = { id: 'tax-bot', institution: 'EMTA', groups: ['tax'] };
const police = { id: 'police-bot', institution: 'PPA', groups: [] };

function input(sender: typeof tax, recipient: typeof tax, weekday: PolicyInput['time']['weekday'] = 'mon', minuteOfDay = 540): PolicyInput {
  return {
    sender: { ...sender, certificate: null },
    recipient,
    message: { type: 'ChatMessage' },
    time: { unixMs: 0, weekday, minuteOfDay },
  };
}

const first = {
  format: 'dmr-policy/v1',
  defaultDecision: 'deny',
  groups: { gov: { groups: ['frontline'] }, frontline: { institutions: ['EMTA'] } },
  rules: [
    { id: 'night', effect: 'deny', window: { from: '22:00', to: '06:00' } },
    { id: 'gov-to-police', effect: 'allow', from: { groups: ['gov'] }, to: { agents: ['police-bot'] } },
  ],
};
const second = { format: 'dmr-policy/v1', defaultDecision: 'allow', rules: [{ id: 'no-tax', effect: 'deny', to: { groups: ['tax'] } }] };

let engine: OpaWasmEngine;
const scratch = mkdtempSync(join(tmpdir(), 'dmr-wasm-'));

beforeAll(async () => {
  engine = await createOpaWasmEngine({ wasmFile: POLICY_WASM_FILE });
});

afterAll(async () => {
  await engine?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('opa-wasm engine', () => {
  it('decides NO_POLICY before a document is loaded', () => {
    expect(engine.decide(input(tax, police))).toEqual({ allow: true, reason: 'NO_POLICY', policyVersion: 0 });
  });

  it('decides by the loaded document: nested groups, deny wins, windows, default', async () => {
    await engine.load({ version: 4, document: first });
    expect(engine.decide(input(tax, police))).toEqual({ allow: true, reason: 'ALLOW_RULE', ruleId: 'gov-to-police', policyVersion: 4 });
    expect(engine.decide(input(tax, police, 'tue', 1320))).toEqual({
      allow: false,
      reason: 'DENY_RULE',
      ruleId: 'night',
      policyVersion: 4,
    });
    expect(engine.decide(input(tax, police, 'tue', 360))).toMatchObject({ allow: true, ruleId: 'gov-to-police' });
    expect(engine.decide(input(police, tax))).toEqual({ allow: false, reason: 'DEFAULT_DENY', policyVersion: 4 });
  });

  it('swaps to a new version between two decisions', async () => {
    await engine.load({ version: 5, document: second });
    expect(engine.decide(input(police, tax))).toEqual({ allow: false, reason: 'DENY_RULE', ruleId: 'no-tax', policyVersion: 5 });
    expect(engine.decide(input(tax, police))).toEqual({ allow: true, reason: 'DEFAULT_ALLOW', policyVersion: 5 });
  });

  it('refuses an invalid document with DMR_POLICY_INVALID naming the field, and keeps the last good one', async () => {
    const broken = { ...second, rules: [{ id: 'x', effect: 'maybe' }] };
    const refusal = await engine.load({ version: 6, document: broken }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DmrError);
    expect((refusal as DmrError).code).toBe('DMR_POLICY_INVALID');
    expect((refusal as DmrError).message).toContain('rules.0.effect');
    expect(engine.decide(input(police, tax))).toMatchObject({ ruleId: 'no-tax', policyVersion: 5 });
  });

  it('back to NO_POLICY when the document is withdrawn', async () => {
    await engine.load(undefined);
    expect(engine.decide(input(police, tax))).toEqual({ allow: true, reason: 'NO_POLICY', policyVersion: 0 });
  });

  it('refuses a missing file and a file that is not WebAssembly with DMR_POLICY_INVALID', async () => {
    const notWasm = join(scratch, 'not.wasm');
    writeFileSync(notWasm, 'package dmr');
    for (const wasmFile of [join(scratch, 'missing.wasm'), notWasm]) {
      const refusal = await createOpaWasmEngine({ wasmFile }).catch((error: unknown) => error);
      expect((refusal as DmrError).code).toBe('DMR_POLICY_INVALID');
      expect((refusal as DmrError).message).toContain(wasmFile);
    }
  });
});
