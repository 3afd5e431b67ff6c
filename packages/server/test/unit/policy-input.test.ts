// Issue 19, the pure parts of the server's policy decision point: the input built for one message (metadata and
// registry attributes only), the attributes read from a CentOps document, the certificate subject text, the policy
// settings read from the environment, the engine seam, and the reason a denied sender is told.
import { generateKeyPairSync } from 'node:crypto';
import { EnvReader } from '@dmr/shared';
import type { PolicyTime } from '@dmr/shared/policy';
import { describe, expect, it } from 'vitest';
import { subjectText } from '../../src/auth/index.js';
import { readPolicy } from '../../src/config/index.js';
import { buildPolicyInput, createPolicyEngine, ENGINE_BUILDERS, PendingEngine, type PolicyEngine } from '../../src/policy/index.js';
import { NO_ATTRIBUTES, parseRegistryDocument } from '../../src/registry/index.js';
import { denialReason } from '../../src/routing/index.js';

const time: PolicyTime = { unixMs: 1_796_630_400_000, weekday: 'mon', minuteOfDay: 540 };
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const entry = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: id,
  authentication_certificate: key,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('buildPolicyInput', () => {
  const attributes: Record<string, { institution: string; groups: string[] }> = {
    'tax-bot': { institution: 'EMTA', groups: ['tax', 'gov'] },
    'police-bot': { institution: 'PPA', groups: ['police', 'gov'] },
  };
  const attributesOf = (id: string) => attributes[id] ?? NO_ATTRIBUTES;

  it('builds the documented input: both parties with their registry attributes, the certificate, the type, the time', () => {
    const message = {
      id: 'm-1',
      senderId: 'tax-bot',
      recipientId: 'police-bot',
      type: 'ChatMessage',
      payload: 'secret.jwe',
      timestamp: 'x',
    };
    const certificate = { subject: 'CN=tax-bot', serial: '0A1B' };
    expect(buildPolicyInput(message, attributesOf, certificate, time)).toEqual({
      sender: { id: 'tax-bot', institution: 'EMTA', groups: ['tax', 'gov'], certificate },
      recipient: { id: 'police-bot', institution: 'PPA', groups: ['police', 'gov'] },
      message: { type: 'ChatMessage' },
      time,
    });
  });

  it('never carries content, the message id or the timestamp, and gives "" and [] for an agent without attributes', () => {
    const message = { id: 'm-2', senderId: 'unlisted', recipientId: 'tax-bot', type: 'ChatMessage', payload: 'secret.jwe', timestamp: 't' };
    const input = buildPolicyInput(message, attributesOf, null, time);
    expect(input.sender).toEqual({ id: 'unlisted', institution: '', groups: [], certificate: null });
    const text = JSON.stringify(input);
    for (const hidden of ['secret.jwe', 'm-2', '"t"']) expect(text).not.toContain(hidden);
  });
});

describe('registry attributes (institution, groups) from the CentOps document', () => {
  it('keeps them per agent apart from the agent list, and refuses bad ones whole', () => {
    const parsed = parseRegistryDocument({ response: [entry('a', { institution: 'EMTA', groups: ['tax', 'gov:eu'] }), entry('b')] });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.value.attributes.get('a')).toEqual({ institution: 'EMTA', groups: ['tax', 'gov:eu'] });
    expect(parsed.value.attributes.has('b')).toBe(false);
    // agents get the entry as seed 003 has it: no institution, no groups
    expect(Object.keys(parsed.value.agents.get('a')?.info ?? {})).not.toContain('groups');
    const badGroup = parseRegistryDocument({ response: [entry('a', { groups: ['-bad'] })] });
    expect(badGroup).toMatchObject({ ok: false, code: 'DMR_REGISTRY_INVALID' });
    const tooMany = parseRegistryDocument({ response: [entry('a', { groups: Array.from({ length: 65 }, (_, i) => `g${i}`) })] });
    expect(tooMany).toMatchObject({ ok: false, code: 'DMR_REGISTRY_INVALID' });
    const longInstitution = parseRegistryDocument({ response: [entry('a', { institution: 'x'.repeat(257) })] });
    expect(longInstitution).toMatchObject({ ok: false, code: 'DMR_REGISTRY_INVALID' });
  });
});

describe('subjectText', () => {
  it('writes the subject as NAME=value pairs in order, a repeated attribute once per value', () => {
    expect(subjectText({ CN: 'tax-bot' })).toBe('CN=tax-bot');
    expect(subjectText({ C: 'EE', O: 'EMTA', OU: ['a', 'b'], CN: 'tax-bot' })).toBe('C=EE,O=EMTA,OU=a,OU=b,CN=tax-bot');
    expect(subjectText(undefined)).toBe('');
  });
});

describe('readPolicy (DMR_POLICY_ENGINE, DMR_POLICY_URL)', () => {
  const read = (env: Record<string, string>, controlUrl?: string) => {
    const reader = new EnvReader(env);
    const config = readPolicy(reader, controlUrl);
    let problem: string | undefined;
    try {
      reader.finish();
    } catch (error) {
      problem = (error as Error).message;
    }
    return { config, problem };
  };

  it('defaults to the builtin engine and chooses the source: DMR_POLICY_URL, else dmr-control, else none', () => {
    expect(read({}).config).toEqual({ engine: 'builtin', source: undefined });
    expect(read({}, 'https://control:8443').config.source).toEqual({ kind: 'control', url: 'https://control:8443' });
    expect(read({ DMR_POLICY_URL: 'file:///etc/dmr/policy.json' }, 'https://control:8443').config.source).toEqual({
      kind: 'url',
      url: 'file:///etc/dmr/policy.json',
    });
    expect(read({ DMR_POLICY_ENGINE: 'opa-wasm' }).config.engine).toBe('opa-wasm');
  });

  it('refuses an unknown engine and a policy URL that is neither file:// nor https://, naming the variable', () => {
    expect(read({ DMR_POLICY_ENGINE: 'rego' }).problem).toMatch(/DMR_POLICY_ENGINE must be one of builtin, opa, opa-wasm/);
    expect(read({ DMR_POLICY_URL: 'http://policy.example/p.json' }).problem).toMatch(/DMR_POLICY_URL/);
  });
});

describe('createPolicyEngine (the engine seam)', () => {
  it('builds the builtin engine and stops the start with a clear message for an engine not built in', () => {
    expect(createPolicyEngine({ engine: 'builtin' }).name).toBe('builtin');
    expect(() => createPolicyEngine({ engine: 'opa', opa: { url: 'http://127.0.0.1:1' } }, { builtin: ENGINE_BUILDERS.builtin })).toThrow(
      /DMR_POLICY_ENGINE=opa is not built into this server yet/,
    );
  });
});

describe('denialReason', () => {
  it('names the rule and the version, or the default decision', () => {
    expect(denialReason({ allow: false, reason: 'DENY_RULE', ruleId: 'no-police-to-tax', policyVersion: 7 })).toBe(
      'policy version 7 denies: rule no-police-to-tax (DENY_RULE)',
    );
    expect(denialReason({ allow: false, reason: 'DEFAULT_DENY', policyVersion: 3 })).toBe(
      'policy version 3 denies: default decision (DEFAULT_DENY)',
    );
  });
});

describe('an engine built asynchronously (the opa-wasm seam)', () => {
  it('fails closed until built, then decides; a failed build rejects ready', async () => {
    const decision = { allow: true, reason: 'NO_POLICY', policyVersion: 0 } as const;
    let finish: (engine: PolicyEngine) => void = () => undefined;
    const built: PolicyEngine = { name: 'opa-wasm', load: async () => undefined, decide: () => decision, close: async () => undefined };
    const engine = createPolicyEngine(
      { engine: 'opa-wasm', wasmFile: 'unused.wasm' },
      { 'opa-wasm': () => new Promise<PolicyEngine>((resolve) => (finish = resolve)) },
    );
    expect(engine).toBeInstanceOf(PendingEngine);
    const input = buildPolicyInput({ senderId: 'a', recipientId: 'b', type: 'ChatMessage' }, () => NO_ATTRIBUTES, null, time);
    expect(() => engine.decide(input)).toThrow(/not built yet/);
    finish(built);
    await (engine as PendingEngine).ready;
    expect(engine.decide(input)).toEqual(decision);
    const broken = createPolicyEngine(
      { engine: 'opa-wasm', wasmFile: 'unused.wasm' },
      { 'opa-wasm': async () => Promise.reject(new Error('no wasm file')) },
    );
    await expect((broken as PendingEngine).ready).rejects.toThrow(/no wasm file/);
  });
});
