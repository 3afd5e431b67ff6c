/**
 * Issue #18's bad-input acceptance on the admin API (inject, real SQLite): malformed documents, unknown fields, weak or
 * foreign keys, oversized bodies, SQL-ish strings and non-UTF-8 / NUL / control characters in every string field. Each
 * is a clear 4xx `{statusCode, code, message, field}` naming the field, and nothing is written: the configVersion and
 * the registry stay as they were.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createLogger } from '@dmr/shared';
import { TestCa, testKeyPair } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlFixture, IDENTITY_HEADER, injectIdentity, startControl } from './helpers/control-fixture.js';

let fixture: ControlFixture;

beforeAll(async () => {
  fixture = await startControl({}, { identify: injectIdentity });
});

afterAll(async () => {
  await fixture?.stop();
});

async function post(url: string, payload: string | Buffer, contentType = 'application/json') {
  const response = await fixture.control.app.inject({
    method: 'POST',
    url,
    headers: { [IDENTITY_HEADER]: 'admin', 'content-type': contentType },
    payload,
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

async function state(): Promise<{ configVersion: number; agents: number }> {
  const store = fixture.control.store();
  const page = await store.agents.list({ limit: 1000 });
  return { configVersion: await store.configVersion(), agents: page.ok ? page.value.items.length : -1 };
}

/** Posts `payload` as a new agent and expects a 4xx naming `field`, with nothing written. */
async function expectRefused(payload: string | Buffer, field: string, status = 400, code = 'DMR_CONTROL_INVALID_INPUT') {
  const before = await state();
  const answer = await post('/v1/agents', payload);
  expect(answer.body, `${String(payload).slice(0, 80)} → ${JSON.stringify(answer.body)}`).toMatchObject({
    statusCode: status,
    code,
    field,
  });
  expect(answer.status).toBe(status);
  expect(String(answer.body.message)).toContain(field === 'body' ? 'body' : field.split('.')[0]);
  expect(await state()).toEqual(before);
}

const SQLISH = "x'; DROP TABLE agents; --";

describe('malformed documents and unknown fields', () => {
  it.each([
    ['{"name": ', 'body'],
    ['', 'body'],
    ['[]', 'body'],
    ['"a string"', 'body'],
    ['{"name": "a", "name": "b", "color": "red"}', 'color'],
    ['{"name": "a", "enabled": "yes"}', 'enabled'],
    ['{"id": "ok-id"}', 'name'],
    ['{"name": "a", "labels": {"a": 1}}', 'labels.a'],
    ['{"name": "a", "__proto__": {"admin": true}}', 'body'],
    [`${'['.repeat(100)}${']'.repeat(100)}`, 'body'],
  ])('%s → 400 naming %s', async (payload, field) => {
    await expectRefused(payload, field);
  });

  it('a body of another content type is 415', async () => {
    const before = await state();
    const answer = await post('/v1/agents', 'name=a', 'application/x-www-form-urlencoded');
    expect(answer).toMatchObject({ status: 415, body: { code: 'DMR_CONTROL_UNSUPPORTED_MEDIA' } });
    const yaml = await post('/v1/agents', 'name: a\n', 'application/yaml');
    expect(yaml).toMatchObject({ status: 415, body: { code: 'DMR_CONTROL_UNSUPPORTED_MEDIA' } });
    expect(await state()).toEqual(before);
  });

  it('a body over DMR_MAX_BODY_BYTES (default 10 MiB) is 413', async () => {
    const before = await state();
    const answer = await post('/v1/agents', JSON.stringify({ name: 'a', contact: 'x'.repeat(10 * 1024 * 1024) }));
    expect(answer).toMatchObject({ status: 413, body: { statusCode: 413, code: 'DMR_CONTROL_BODY_TOO_LARGE' } });
    expect(await state()).toEqual(before);
  });
});

describe('keys that are not RSA ≥ 2048 or EC P-256', () => {
  const pem = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) => key.export({ type: 'spki', format: 'pem' }).toString();

  it.each([
    ['RSA 1024', () => pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey), /1024 bits/],
    ['EC P-384', () => pem(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey), /P-256/],
    ['Ed25519', () => pem(generateKeyPairSync('ed25519').publicKey), /ed25519/],
    ['no PEM', () => 'not a key', /exactly one PEM block/],
    ['two keys', () => `${testKeyPair().publicPem}${testKeyPair().publicPem}`, /exactly one PEM block/],
    ['a private key', () => testKeyPair().privatePem, /private key/],
    ['garbage in a PEM block', () => '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', /not a valid PEM/],
  ])('%s is refused naming authenticationCertificate', async (_label, makeKey, message) => {
    const before = await state();
    const answer = await post('/v1/agents', JSON.stringify({ id: 'weak-key', name: 'Weak', authenticationCertificate: makeKey() }));
    expect(answer.body).toMatchObject({ statusCode: 400, code: 'DMR_CONTROL_INVALID_INPUT', field: 'authenticationCertificate' });
    expect(String(answer.body.message)).toMatch(message);
    expect(String(answer.body.message)).not.toContain('BEGIN');
    expect(await state()).toEqual(before);
  });

  it('a certificate naming another agent is refused; one naming this agent is stored in canonical PEM', async () => {
    const ca = await TestCa.create();
    const pair = testKeyPair();
    const other = await ca.agentCertificate('someone-else', pair.publicKey);
    const refused = await post('/v1/agents', JSON.stringify({ id: 'cert-agent', name: 'C', authenticationCertificate: other }));
    expect(refused.body).toMatchObject({ statusCode: 400, field: 'authenticationCertificate' });
    expect(String(refused.body.message)).toContain('someone-else');
    const own = await ca.agentCertificate('cert-agent', pair.publicKey);
    const accepted = await post(
      '/v1/agents',
      JSON.stringify({ id: 'cert-agent', name: 'C', authenticationCertificate: `preamble\r\n${own}` }),
    );
    expect(accepted.status).toBe(201);
    expect(accepted.body.authenticationCertificate).toBe(own.endsWith('\n') ? own : `${own}\n`);
  });
});

// every string field of an agent, with how to put a value into it
const STRING_FIELDS: ReadonlyArray<readonly [string, (value: string) => Record<string, unknown>]> = [
  ['id', (value) => ({ id: value, name: 'n' })],
  ['name', (value) => ({ name: value })],
  ['institution', (value) => ({ name: 'n', institution: value })],
  ['contact', (value) => ({ name: 'n', contact: value })],
  ['labels.team', (value) => ({ name: 'n', labels: { team: value } })],
  ['groups.0', (value) => ({ name: 'n', groups: [value] })],
  ['capabilities.0', (value) => ({ name: 'n', capabilities: [value] })],
  ['authenticationCertificate', (value) => ({ name: 'n', authenticationCertificate: value })],
];

describe('NUL, control characters, lone surrogates and non-UTF-8 bytes in every string field', () => {
  const cases = STRING_FIELDS.flatMap(
    ([field, build]) =>
      [
        [field, 'NUL', JSON.stringify(build('a\u0000b'))],
        [field, 'BEL', JSON.stringify(build('a\u0007b'))],
        [field, 'a lone surrogate', JSON.stringify(build('a\ud800b'))],
        [field, 'a right-to-left override', JSON.stringify(build('a\u202eb'))],
        [
          field,
          'invalid UTF-8',
          Buffer.concat([
            Buffer.from(JSON.stringify(build('a\u0001b')).split('\\u0001')[0] as string),
            Buffer.from([0xff, 0xfe]),
            Buffer.from(JSON.stringify(build('a\u0001b')).split('\\u0001')[1] as string),
          ]),
        ],
      ] as const,
  );

  it.each(cases)('%s with %s is refused naming the field', async (field, _what, payload) => {
    await expectRefused(payload, field);
  });
});

describe('SQL-ish strings', () => {
  // label values have a grammar (Kubernetes label values); every field is covered in control-input-fields.test.ts
  const FREE_TEXT = ['name', 'institution', 'contact'];

  it.each(STRING_FIELDS.filter(([field]) => !FREE_TEXT.includes(field)))(
    'in %s (a constrained field) are refused naming it',
    async (field, build) => {
      await expectRefused(JSON.stringify(build(SQLISH)), field);
    },
  );

  it('in a label key (constrained) are refused naming it', async () => {
    await expectRefused(JSON.stringify({ name: 'n', labels: { [SQLISH]: 'v' } }), `labels.${SQLISH}`);
  });

  it('in free-text fields (name, institution, contact) are stored as the data they are and read back unchanged; the registry is intact', async () => {
    const before = await state();
    const body = {
      id: 'sql-text',
      name: SQLISH,
      institution: `${SQLISH} OR 1=1`,
      contact: "Robert'); DELETE FROM change_log;--",
      labels: { team: 'union-select' },
    };
    const created = await post('/v1/agents', JSON.stringify(body));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(body);
    const read = await fixture.control.app.inject({ method: 'GET', url: '/v1/agents/sql-text', headers: { [IDENTITY_HEADER]: 'auditor' } });
    expect(JSON.parse(read.body)).toMatchObject(body);
    expect(await state()).toEqual({ configVersion: before.configVersion + 1, agents: before.agents + 1 });
  });

  it('in query parameters are refused or matched literally', async () => {
    const search = await fixture.control.app.inject({
      method: 'GET',
      url: `/v1/agents?namePrefix=${encodeURIComponent(`${SQLISH}%`)}`,
      headers: { [IDENTITY_HEADER]: 'auditor' },
    });
    expect(JSON.parse(search.body)).toEqual({ items: [], nextCursor: null });
    const nul = await fixture.control.app.inject({
      method: 'GET',
      url: '/v1/agents?namePrefix=a%00b',
      headers: { [IDENTITY_HEADER]: 'auditor' },
    });
    expect(JSON.parse(nul.body)).toMatchObject({ statusCode: 400, code: 'DMR_CONTROL_INVALID_INPUT', field: 'namePrefix' });
  });
});

describe('no secret in an answer or a log line', () => {
  it('a private key sent as a key is refused without being echoed, and no log line (debug level) holds it', async () => {
    const lines: string[] = [];
    const destination = { write: (line: string) => lines.push(line) };
    const logged = await startControl(
      {},
      { identify: injectIdentity, log: createLogger({ name: 'dmr-control-test', level: 'debug', destination }) },
    );
    try {
      const secret = testKeyPair().privatePem;
      const answer = await logged.control.app.inject({
        method: 'POST',
        url: '/v1/agents',
        headers: { [IDENTITY_HEADER]: 'admin', 'content-type': 'application/json' },
        payload: JSON.stringify({ id: 'leaky', name: 'Leaky', authenticationCertificate: secret }),
      });
      expect(answer.statusCode).toBe(400);
      expect(answer.body).not.toContain('PRIVATE KEY');
      const refused = await logged.control.app.inject({ method: 'GET', url: '/v1/export', headers: { [IDENTITY_HEADER]: 'none' } });
      expect(refused.statusCode).toBe(401);
      const body = secret.split('\n')[1] as string;
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).not.toContain('PRIVATE KEY');
        expect(line).not.toContain(body);
      }
    } finally {
      await logged.stop();
    }
  });
});
