/**
 * Issue 19, dmr-control's side of the policy lifecycle: `GET /v1/policies/latest` (what servers read at start, on a
 * `policy` announcement and on their poll) and the registry attributes the policy reads (`institution`, `groups`),
 * served as optional members of each `/centops/configuration` item. Through `inject()` on a real SQLite store.
 */

import { CentOpsConfiguration, compileValidator } from '@dmr/shared';
import { testKeyPair } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlFixture, IDENTITY_HEADER, type InjectIdentity, injectIdentity, startControl } from './helpers/control-fixture.js';

let fixture: ControlFixture;

beforeAll(async () => {
  fixture = await startControl({}, { identify: injectIdentity });
});

afterAll(async () => {
  await fixture?.stop();
});

async function send(as: InjectIdentity, method: 'GET' | 'POST', url: string, payload?: unknown) {
  const response = await fixture.control.app.inject({
    method,
    url,
    headers: { [IDENTITY_HEADER]: as, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
  return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body || '{}') as Record<string, unknown> };
}

const policy = (defaultDecision: 'allow' | 'deny') => ({ format: 'dmr-policy/v1', defaultDecision, rules: [] });

describe('GET /v1/policies/latest', () => {
  it('answers 404 while no version is stored, then always the newest version, to servers and admin roles', async () => {
    const none = await send('server', 'GET', '/v1/policies/latest');
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ statusCode: 404, code: 'DMR_CONTROL_NOT_FOUND' });

    const first = await send('admin', 'POST', '/v1/policies', { document: policy('deny'), comment: 'first' });
    expect(first.status).toBe(201);
    const latest = await send('server', 'GET', '/v1/policies/latest');
    expect(latest.status).toBe(200);
    expect(latest.headers['cache-control']).toBe('no-store');
    expect(latest.body).toMatchObject({ version: first.body.version, document: policy('deny'), comment: 'first' });

    const second = await send('admin', 'POST', '/v1/policies', { document: policy('allow') });
    const newer = await send('auditor', 'GET', '/v1/policies/latest');
    expect(newer.body).toMatchObject({ version: second.body.version, document: policy('allow') });
    expect(second.body.version).toBe((first.body.version as number) + 1);
    // `latest` is its own route, not a version number that fails validation
    expect((await send('server', 'GET', `/v1/policies/${first.body.version}`)).body.version).toBe(first.body.version);
  });

  it('is refused to an agent identity (policies are read by admin roles and servers only)', async () => {
    expect((await send('agent', 'GET', '/v1/policies/latest')).status).toBe(403);
  });
});

describe('/centops/configuration carries institution and groups (issue 19)', () => {
  it('lists them as optional members seed-003 readers ignore, left out when empty, valid for dmr-server', async () => {
    const key = testKeyPair().publicPem;
    const withAttributes = { id: 'tax-bot', name: 'Tax bot', institution: 'EMTA', groups: ['tax', 'gov'], authenticationCertificate: key };
    expect((await send('operator', 'POST', '/v1/agents', withAttributes)).status).toBe(201);
    expect((await send('operator', 'POST', '/v1/agents', { id: 'plain-bot', name: 'Plain', authenticationCertificate: key })).status).toBe(
      201,
    );
    const document = await send('server', 'GET', '/centops/configuration');
    const items = document.body.response as Array<Record<string, unknown>>;
    expect(items.find((item) => item.id === 'tax-bot')).toMatchObject({ institution: 'EMTA', groups: ['tax', 'gov'] });
    const plain = items.find((item) => item.id === 'plain-bot') ?? {};
    expect(Object.keys(plain).sort()).toEqual(['authentication_certificate', 'created_at', 'id', 'name', 'updated_at']);
    expect(compileValidator(CentOpsConfiguration)(document.body)).toMatchObject({ ok: true });
  });
});
