// The pure core of dmr-control's admin API: identities from SAN text, the role matrix, authentication and
// authorisation of a presented certificate, text rules, agent keys, registry documents and their diff.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_ROLES,
  authenticate,
  authenticationKeyProblem,
  authorise,
  CLIENT_AUTH_OID,
  checkAgentFields,
  checkAgentId,
  checkPolicyDocument,
  checkRegistryDocument,
  diffRegistry,
  findTextProblem,
  identityFromSubjectAltName,
  isAllowed,
  MAX_POLICY_BYTES,
  REGISTRY_DOCUMENT_FORMAT,
  textProblem,
} from '../../src/domain/index.js';

const publicPem = (kind: 'rsa2048' | 'rsa1024' | 'p256' | 'p384') => {
  const pair =
    kind === 'rsa2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : kind === 'rsa1024'
        ? generateKeyPairSync('rsa', { modulusLength: 1024 })
        : generateKeyPairSync('ec', { namedCurve: kind === 'p256' ? 'prime256v1' : 'secp384r1' });
  return pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
};

describe('identityFromSubjectAltName', () => {
  it.each([
    ['URI:urn:dmr:role:admin:mari', { role: 'admin', name: 'mari', uri: 'urn:dmr:role:admin:mari' }],
    ['DNS:x.example, URI:urn:dmr:role:auditor:jaan.tamm@ria.ee', { role: 'auditor', name: 'jaan.tamm@ria.ee' }],
    ['URI:urn:dmr:server:dmr-1.ria.ee', { role: 'server', name: 'dmr-1.ria.ee' }],
    ['URI:urn:dmr:agent:tax-bot', { role: 'agent', name: 'tax-bot' }],
  ])('%s → %j', (text, expected) => {
    expect(identityFromSubjectAltName(text)).toMatchObject(expected);
  });

  it.each([
    [undefined],
    ['DNS:only.example'],
    ['URI:urn:dmr:role:root:mari'],
    ['URI:urn:dmr:role:admin:'],
    ['URI:urn:dmr:role:admin:has space'],
    ['URI:urn:dmr:agent:bad id'],
    ['URI:urn:dmr:server:-bad-'],
    ['URI:urn:dmr:role:admin:a, URI:urn:dmr:role:auditor:b'],
    ['URI:urn:dmr:role:auditor:x, URI:urn:dmr:agent:y'],
    // a quoted value is one name, never split into a second identity
    ['URI:"urn:dmr:role:auditor:x\\u002c URI:urn:dmr:role:admin:y"'],
    ['garbage'],
  ])('refuses %s', (text) => {
    expect(identityFromSubjectAltName(text)).toBeUndefined();
  });
});

describe('the role matrix', () => {
  it('admin may do everything; agent only read the config version and renew; server report, read policies and renew', () => {
    for (const access of Object.keys(ACCESS_ROLES) as Array<keyof typeof ACCESS_ROLES>) {
      // a report and a renewal are the caller's own: an admin certificate is neither a server's nor renewable online
      expect(isAllowed('admin', access) || access === 'servers:report' || access === 'certificates:renew').toBe(true);
    }
    expect(Object.keys(ACCESS_ROLES).filter((access) => isAllowed('agent', access as keyof typeof ACCESS_ROLES))).toEqual([
      'config-version:read',
      'certificates:renew',
    ]);
    expect(Object.keys(ACCESS_ROLES).filter((access) => isAllowed('server', access as keyof typeof ACCESS_ROLES))).toEqual([
      'servers:report',
      'policies:read',
      'config-version:read',
      'certificates:renew',
    ]);
    expect(isAllowed('auditor', 'agents:write')).toBe(false);
    expect(isAllowed('operator', 'changes:read')).toBe(false);
    expect(isAllowed('operator', 'policies:write')).toBe(false);
    expect(isAllowed('agent', 'public')).toBe(true);
    expect(isAllowed('operator', 'certificates:write')).toBe(true);
    expect(isAllowed('operator', 'certificates:servers')).toBe(false);
    expect(isAllowed('auditor', 'certificates:read')).toBe(true);
    expect(isAllowed('auditor', 'certificates:write')).toBe(false);
  });
});

describe('authenticate and authorise', () => {
  const good = {
    isVerified: true,
    subjectAltName: 'URI:urn:dmr:role:operator:mari',
    extendedKeyUsage: [CLIENT_AUTH_OID],
    serialNumber: '0A:FF',
  };

  it('accepts a verified certificate with one identity and clientAuth; the serial is canonical', () => {
    expect(authenticate(good)).toEqual({
      ok: true,
      caller: { role: 'operator', name: 'mari', uri: 'urn:dmr:role:operator:mari', serial: '0aff' },
    });
    expect(authenticate({ ...good, extendedKeyUsage: undefined }).ok).toBe(true);
  });

  it.each([
    ['no certificate', undefined, /no client certificate/, 'anonymous'],
    [
      'an unverified chain',
      { ...good, isVerified: false, verifyError: 'UNABLE_TO_GET_ISSUER_CERT' },
      /UNABLE_TO_GET_ISSUER_CERT/,
      'urn:dmr:role:operator:mari',
    ],
    ['a serverAuth-only EKU', { ...good, extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] }, /clientAuth/, 'urn:dmr:role:operator:mari'],
    ['no identity', { ...good, subjectAltName: 'DNS:x.example' }, /names no DMR identity/, 'anonymous'],
    ['a bad serial', { ...good, serialNumber: 'zz' }, /serial/, 'urn:dmr:role:operator:mari'],
  ])('refuses %s with 401 DMR_CONTROL_CERTIFICATE_REQUIRED', (_label, certificate, message, subject) => {
    const judgement = authenticate(certificate);
    expect(judgement).toMatchObject({ ok: false, code: 'DMR_CONTROL_CERTIFICATE_REQUIRED', claimed: { subject } });
    expect(judgement.ok ? '' : judgement.message).toMatch(message);
  });

  it('refuses a role that may not with 403 DMR_CONTROL_ROLE_FORBIDDEN', () => {
    const caller = { role: 'auditor' as const, name: 'a', uri: 'urn:dmr:role:auditor:a', serial: '01' };
    expect(authorise(caller, 'agents:read').ok).toBe(true);
    expect(authorise(caller, 'agents:write')).toMatchObject({
      ok: false,
      code: 'DMR_CONTROL_ROLE_FORBIDDEN',
      claimed: { role: 'auditor' },
    });
  });
});

describe('text rules', () => {
  it.each([
    ['a\u0000b', /NUL/],
    ['a\u0007b', /control/],
    ['a\u0085b', /control/],
    ['a\nb', /control/],
    ['a\ud800b', /surrogate/],
    ['a\udc00', /surrogate/],
    ['a\ufffdb', /UTF-8/],
    ['a\u202eb', /bidirectional/],
    ['a\u2028b', /separator/],
    ['x'.repeat(257), /longer than 256/],
  ])('refuses %j', (value, problem) => {
    expect(textProblem(value)).toMatch(problem);
  });

  it('accepts ordinary text, emoji pairs, and line breaks where multiline', () => {
    expect(textProblem("Maa- ja Ruumiamet; O'Brien 🇪🇪")).toBeUndefined();
    expect(textProblem('a\r\nb\tc', { isMultiline: true })).toBeUndefined();
  });

  it('finds the first bad string of a document with its path, keys included', () => {
    expect(findTextProblem({ a: ['ok', { b: 'x\u0000' }] }, 'doc')).toMatchObject({ field: 'doc.a.1.b' });
    expect(findTextProblem({ 'bad\u0000key': 1 }, '')).toMatchObject({ field: 'bad?key' });
    expect(findTextProblem({ a: [1, true, null, 'fine'] }, '')).toBeUndefined();
  });
});

describe('agent keys', () => {
  it('accepts RSA ≥ 2048 and EC P-256; refuses weaker or other keys', () => {
    expect(authenticationKeyProblem(publicPem('rsa2048'), 'a')).toBeUndefined();
    expect(authenticationKeyProblem(publicPem('p256'), 'a')).toBeUndefined();
    expect(authenticationKeyProblem(publicPem('rsa1024'), 'a')).toMatch(/1024 bits/);
    expect(authenticationKeyProblem(publicPem('p384'), 'a')).toMatch(/secp384r1/);
  });

  it('returns the fields with the key in canonical PEM, or refuses naming the field under the root', () => {
    const pem = publicPem('p256');
    const checked = checkAgentFields({ name: 'n', authenticationCertificate: `junk\n${pem.replaceAll('\n', '\r\n')}` }, 'a');
    expect(checked).toEqual({ ok: true, value: { name: 'n', authenticationCertificate: pem } });
    expect(checkAgentFields({ authenticationCertificate: publicPem('rsa1024') }, 'a', 'agents.4')).toMatchObject({
      ok: false,
      field: 'agents.4.authenticationCertificate',
    });
    expect(checkAgentFields({ name: 'a\u0000' }, 'a', 'agents.4')).toMatchObject({ ok: false, field: 'agents.4.name' });
    expect(checkAgentId('dmr-relay')).toMatchObject({ ok: false, field: 'id' });
    expect(checkAgentId('Guest', 'agents.2')).toMatchObject({ ok: false, field: 'agents.2.id' });
  });
});

describe('policy documents', () => {
  const valid = { format: 'dmr-policy/v1', defaultDecision: 'deny', rules: [] };
  const rule = (i: number, extra: Record<string, unknown> = {}) => ({
    id: `r${i}`,
    effect: 'allow',
    from: { agents: [`agent-${i}`] },
    ...extra,
  });

  it('must be dmr-policy/v1 documents, refused naming the field', () => {
    expect(checkPolicyDocument(valid, 'document')).toEqual({ ok: true, value: valid });
    expect(checkPolicyDocument([], 'document')).toMatchObject({ ok: false, field: 'document' });
    expect(checkPolicyDocument({ rules: [] }, 'document')).toMatchObject({
      ok: false,
      code: 'DMR_CONTROL_INVALID_INPUT',
      field: 'document.format',
    });
    const badEffect = { ...valid, rules: [rule(0), rule(1), rule(2), rule(3, { effect: 'maybe' })] };
    expect(checkPolicyDocument(badEffect, 'document')).toMatchObject({
      ok: false,
      field: 'document.rules.3.effect',
      message: 'document.rules.3.effect must be "allow" or "deny"',
    });
    expect(checkPolicyDocument({ ...valid, extra: 1 }, 'policy.document')).toMatchObject({ ok: false, field: 'policy.document.extra' });
    const cycle = { ...valid, groups: { a: { groups: ['b'] }, b: { groups: ['a'] } } };
    expect(checkPolicyDocument(cycle, 'document')).toMatchObject({
      ok: false,
      field: 'document.groups.a.groups',
      message: expect.stringMatching(/a → b → a/),
    });
  });

  it('holds acceptable text only', () => {
    expect(checkPolicyDocument({ ...valid, description: 'x\u0000' }, 'document')).toMatchObject({
      ok: false,
      field: 'document.description',
    });
    expect(checkPolicyDocument({ ...valid, description: 'bell\u0007' }, 'policy.document')).toMatchObject({
      ok: false,
      field: 'policy.document.description',
    });
  });

  it(`takes at most MAX_POLICY_BYTES (${MAX_POLICY_BYTES}), which holds 10 000 typical rules`, () => {
    expect(MAX_POLICY_BYTES).toBe(8 * 1024 * 1024);
    const rules = Array.from({ length: 10_000 }, (_, i) =>
      rule(i, {
        to: { institutions: [`institution-${i % 40}`], groups: ['gov'] },
        types: ['ChatMessage'],
        description: `rule ${i} of the 10 000`,
      }),
    );
    expect(checkPolicyDocument({ ...valid, rules }, 'document').ok).toBe(true);
    const rulesOver = Array.from({ length: 45_000 }, (_, i) => rule(i, { description: 'x'.repeat(150) }));
    expect(checkPolicyDocument({ ...valid, rules: rulesOver }, 'document')).toMatchObject({
      ok: false,
      field: 'document',
      message: expect.stringMatching(/bytes of JSON; at most 8388608/),
    });
  });
});

describe('registry documents', () => {
  const key = publicPem('p256');
  const entry = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: `Agent ${id}`,
    authenticationCertificate: key,
    ...extra,
  });

  it('refuses a duplicate id naming both positions', () => {
    const checked = checkRegistryDocument({ format: REGISTRY_DOCUMENT_FORMAT, agents: [entry('a'), entry('b'), entry('a')] });
    expect(checked).toMatchObject({ ok: false, field: 'agents.2.id', message: expect.stringContaining('agents.0.id') });
  });

  it('completes absent fields with the defaults of a new agent', () => {
    const checked = checkRegistryDocument({ format: REGISTRY_DOCUMENT_FORMAT, agents: [{ id: 'a', name: 'A' }] });
    expect(checked).toEqual({
      ok: true,
      value: {
        agents: [
          {
            id: 'a',
            name: 'A',
            institution: '',
            contact: '',
            labels: {},
            groups: [],
            authenticationCertificate: null,
            capabilities: [],
            enabled: true,
          },
        ],
        policy: undefined,
      },
    });
  });

  it('diffs added, changed (with the fields), unchanged and, with prune only, removed; policy by content', () => {
    const current = checkRegistryDocument({ format: REGISTRY_DOCUMENT_FORMAT, agents: [entry('a'), entry('b'), entry('c')] });
    const incoming = checkRegistryDocument({
      format: REGISTRY_DOCUMENT_FORMAT,
      agents: [entry('a'), entry('b', { name: 'B2', labels: { x: 'y' } }), entry('d')],
      policy: { document: { format: 'dmr-policy/v1', defaultDecision: 'deny', rules: [] } },
    });
    if (!current.ok || !incoming.ok) throw new Error('fixture');
    const base = { agents: current.value.agents, policyDocument: { rules: [], defaultDecision: 'deny', format: 'dmr-policy/v1' } };
    expect(diffRegistry(base, incoming.value, { prune: false })).toEqual({
      agents: { added: ['d'], changed: [{ id: 'b', fields: ['name', 'labels'] }], removed: [], unchanged: 1 },
      policy: 'unchanged',
    });
    expect(diffRegistry({ ...base, policyDocument: undefined }, incoming.value, { prune: true })).toMatchObject({
      agents: { removed: ['c'] },
      policy: 'added',
    });
  });
});
