/**
 * dmr-control's admin API through `inject()` (mTLS is the business of control-mtls.test.ts: here the caller's role
 * comes from a test identity header) on a real SQLite store: agent CRUD with ETag / If-Match, pagination and filters,
 * one configVersion bump per write, the change log, policies, server reports and the CentOps view.
 */

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

interface Sent {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, unknown>;
}

async function send(
  as: InjectIdentity,
  method: string,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<Sent> {
  const response = await fixture.control.app.inject({
    method: method as 'GET',
    url,
    headers: { [IDENTITY_HEADER]: as, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });
  const text = response.body;
  return { status: response.statusCode, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: response.headers };
}

async function configVersion(): Promise<number> {
  return (await send('admin', 'GET', '/v1/config-version')).body.configVersion as number;
}

describe('agents: CRUD with ETag / If-Match', () => {
  const key = testKeyPair().publicPem;

  it('creates, reads, patches and deletes, bumping the configVersion once per write', async () => {
    const start = await configVersion();
    const created = await send('operator', 'POST', '/v1/agents', {
      id: 'tax-bot',
      name: 'Tax bot',
      institution: 'EMTA',
      authenticationCertificate: key,
    });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe('/v1/agents/tax-bot');
    expect(created.body).toMatchObject({
      id: 'tax-bot',
      name: 'Tax bot',
      institution: 'EMTA',
      contact: '',
      enabled: true,
      revision: 1,
      labels: {},
      groups: [],
    });
    expect(await configVersion()).toBe(start + 1);

    const read = await send('auditor', 'GET', '/v1/agents/tax-bot');
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe('"1"');

    const patched = await send(
      'operator',
      'PATCH',
      '/v1/agents/tax-bot',
      { name: 'Tax bot 2', labels: { tier: 'gold' } },
      { 'if-match': '"1"' },
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe('"2"');
    expect(patched.body).toMatchObject({ name: 'Tax bot 2', labels: { tier: 'gold' }, institution: 'EMTA', revision: 2 });
    expect(await configVersion()).toBe(start + 2);

    const stale = await send('operator', 'PATCH', '/v1/agents/tax-bot', { name: 'lost update' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ statusCode: 412, code: 'DMR_CONTROL_REVISION_MISMATCH', field: 'If-Match' });
    expect(stale.headers.etag).toBe('"2"');
    const missing = await send('operator', 'PATCH', '/v1/agents/tax-bot', { name: 'blind update' });
    expect(missing.status).toBe(428);
    expect(missing.body).toMatchObject({ code: 'DMR_CONTROL_IF_MATCH_REQUIRED', field: 'If-Match' });
    expect((await send('operator', 'DELETE', '/v1/agents/tax-bot')).status).toBe(428);
    expect((await send('operator', 'PATCH', '/v1/agents/tax-bot', { name: 'x' }, { 'if-match': '*' })).body.code).toBe(
      'DMR_CONTROL_INVALID_INPUT',
    );
    expect(await configVersion()).toBe(start + 2);
    expect((await send('admin', 'GET', '/v1/agents/tax-bot')).body.name).toBe('Tax bot 2');

    expect((await send('operator', 'DELETE', '/v1/agents/tax-bot', undefined, { 'if-match': '"2"' })).status).toBe(204);
    expect((await send('operator', 'GET', '/v1/agents/tax-bot')).status).toBe(404);
    expect(await configVersion()).toBe(start + 3);
  });

  it('refuses a duplicate id with 409 and writes nothing', async () => {
    expect((await send('admin', 'POST', '/v1/agents', { id: 'dup-1', name: 'first' })).status).toBe(201);
    const before = await configVersion();
    const again = await send('admin', 'POST', '/v1/agents', { id: 'dup-1', name: 'second' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ statusCode: 409, code: 'DMR_CONTROL_ALREADY_EXISTS', field: 'id' });
    expect(await configVersion()).toBe(before);
    expect((await send('admin', 'GET', '/v1/agents/dup-1')).body.name).toBe('first');
  });

  it('makes a UUID when the client names no id', async () => {
    const created = await send('admin', 'POST', '/v1/agents', { name: 'no id given' });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('pages with limit and cursor, and filters', async () => {
    for (let i = 0; i < 5; i++) {
      const body = {
        id: `page-${i}`,
        name: `Page ${i}`,
        groups: i % 2 === 0 ? ['even'] : ['odd'],
        enabled: i !== 4,
        labels: { n: String(i) },
      };
      expect((await send('operator', 'POST', '/v1/agents', body)).status).toBe(201);
    }
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/agents?limit=2&namePrefix=Page${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await send('auditor', 'GET', url);
      expect(page.status).toBe(200);
      const items = page.body.items as Array<{ id: string }>;
      expect(items.length).toBeLessThanOrEqual(2);
      ids.push(...items.map((item) => item.id));
      cursor = page.body.nextCursor as string | null;
    } while (cursor !== null);
    expect(ids).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    const even = await send('auditor', 'GET', '/v1/agents?group=even&enabled=true');
    expect((even.body.items as Array<{ id: string }>).map((item) => item.id)).toEqual(['page-0', 'page-2']);
    const labelled = await send('auditor', 'GET', '/v1/agents?label=n%3D3');
    expect((labelled.body.items as Array<{ id: string }>).map((item) => item.id)).toEqual(['page-3']);
    const bad = await send('auditor', 'GET', '/v1/agents?cursor=not-a-cursor');
    expect(bad.body).toMatchObject({ statusCode: 400, code: 'DMR_CONTROL_CURSOR_INVALID', field: 'cursor' });
    const tooMany = await send('auditor', 'GET', '/v1/agents?limit=1001');
    expect(tooMany.body).toMatchObject({ statusCode: 400, code: 'DMR_CONTROL_INVALID_INPUT', field: 'limit' });
  });
});

describe('the change log', () => {
  it('records every write with actor, action and before/after hashes; read only for auditor and admin', async () => {
    await send('operator', 'POST', '/v1/agents', { id: 'logged', name: 'Logged' });
    await send('operator', 'PATCH', '/v1/agents/logged', { name: 'Logged 2' }, { 'if-match': '"1"' });
    const log = await send('auditor', 'GET', '/v1/changes?subjectId=logged');
    expect(log.status).toBe(200);
    const entries = log.body.items as Array<Record<string, unknown>>;
    expect(entries.map((entry) => entry.action)).toEqual(['agent.create', 'agent.update']);
    expect(entries[0]).toMatchObject({
      actor: { subject: 'urn:dmr:role:operator:tester', role: 'operator' },
      outcome: 'applied',
      beforeHash: null,
    });
    expect(entries[1]?.beforeHash).toBe(entries[0]?.afterHash);
    expect(entries[1]?.afterHash).toMatch(/^[0-9a-f]{64}$/);
    expect(entries[1]?.configVersion).toBe((entries[0]?.configVersion as number) + 1);
    expect((await send('operator', 'GET', '/v1/changes')).status).toBe(403);
  });
});

describe('policies', () => {
  it('stores versioned dmr-policy/v1 documents (admin), readable by every admin role and servers', async () => {
    const before = await configVersion();
    const allowAll = { format: 'dmr-policy/v1', defaultDecision: 'allow', rules: [{ id: 'all', effect: 'allow' }] };
    const first = await send('admin', 'POST', '/v1/policies', { document: allowAll, comment: 'first' });
    expect(first.status).toBe(201);
    expect(first.headers.location).toBe(`/v1/policies/${first.body.version}`);
    expect(first.body).toMatchObject({ document: allowAll, comment: 'first', createdBy: 'urn:dmr:role:admin:tester' });
    const second = await send('admin', 'POST', '/v1/policies', {
      document: { format: 'dmr-policy/v1', defaultDecision: 'deny', rules: [] },
    });
    expect(second.body.version).toBe((first.body.version as number) + 1);
    expect(await configVersion()).toBe(before + 2);
    expect((await send('server', 'GET', `/v1/policies/${first.body.version}`)).body.comment).toBe('first');
    expect((await send('operator', 'GET', '/v1/policies')).status).toBe(200);
    expect((await send('operator', 'POST', '/v1/policies', { document: {} })).status).toBe(403);
    for (const document of [[1, 2], 'text', 42, null]) {
      const refused = await send('admin', 'POST', '/v1/policies', { document });
      expect(refused.body).toMatchObject({ statusCode: 400, code: 'DMR_CONTROL_INVALID_INPUT', field: 'document' });
    }
    // not a dmr-policy/v1 document: refused naming the first bad field
    const badEffect = await send('admin', 'POST', '/v1/policies', {
      document: {
        ...allowAll,
        rules: [
          { id: 'a', effect: 'allow' },
          { id: 'b', effect: 'allow' },
          { id: 'c', effect: 'allow' },
          { id: 'd', effect: 'perhaps' },
        ],
      },
    });
    expect(badEffect.body).toMatchObject({ statusCode: 400, code: 'DMR_CONTROL_INVALID_INPUT', field: 'document.rules.3.effect' });
    const unknown = await send('admin', 'POST', '/v1/policies', {
      document: { ...allowAll, rules: [{ id: 'x', effect: 'allow', allow: true }] },
    });
    expect(unknown.body).toMatchObject({ statusCode: 400, code: 'DMR_CONTROL_INVALID_INPUT', field: 'document.rules.0.allow' });
    const huge = await send('admin', 'POST', '/v1/policies', { document: { ...allowAll, description: 'x'.repeat(9_000_000) } });
    expect(huge.body).toMatchObject({ statusCode: 400, field: 'document' });
    // 10 000 rules fit (docs/policy.md "Limits")
    const rules = Array.from({ length: 10_000 }, (_, i) => ({
      id: `r${i}`,
      effect: 'allow',
      from: { agents: [`agent-${i}`] },
      to: { institutions: [`inst-${i % 50}`] },
      types: ['ChatMessage'],
    }));
    const big = await send('admin', 'POST', '/v1/policies', { document: { ...allowAll, rules } });
    expect(big.status).toBe(201);
    expect(await configVersion()).toBe(before + 3);
  });
});

describe('servers', () => {
  it('takes a report from role server only, under the certificate name, without bumping the configVersion', async () => {
    const before = await configVersion();
    const report = {
      configVersion: before,
      crlNumbers: [{ issuer: 'CN=DMR Agents CA', crlNumber: '4' }],
      version: '0.1.0',
      startedAt: '2026-12-07T10:00:00.000Z',
    };
    const put = await send('server', 'PUT', '/v1/servers/dmr-1-4711', report);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      instanceId: 'dmr-1-4711',
      name: 'dmr-1.example',
      configVersion: before,
      version: '0.1.0',
      crlNumbers: report.crlNumbers,
    });
    const unknownMember = await send('server', 'PUT', '/v1/servers/dmr-1-4711', { ...report, extra: 1 });
    expect(unknownMember.body).toMatchObject({ statusCode: 400, code: 'DMR_CONTROL_INVALID_INPUT', field: 'extra' });
    const early = await send('server', 'PUT', '/v1/servers/dmr-2', { ...report, configVersion: null, crlNumbers: [] });
    expect(early.body).toMatchObject({ instanceId: 'dmr-2', configVersion: 0 });
    expect((await send('admin', 'PUT', '/v1/servers/dmr-1-4711', report)).status).toBe(403);
    const list = await send('operator', 'GET', '/v1/servers');
    expect((list.body.items as Array<{ instanceId: string }>).map((item) => item.instanceId)).toEqual(['dmr-1-4711', 'dmr-2']);
    expect(await configVersion()).toBe(before);
  });
});

describe('GET /centops/configuration', () => {
  it('lists enabled agents with a key in the CentOps shape, plus the dmr extension; no certificate needed', async () => {
    const key = testKeyPair('rsa').publicPem;
    await send('admin', 'POST', '/v1/agents', {
      id: 'centops-on',
      name: 'On',
      authenticationCertificate: key,
      capabilities: ['jwe:RSA-OAEP-256'],
    });
    await send('admin', 'POST', '/v1/agents', { id: 'centops-off', name: 'Off', authenticationCertificate: key, enabled: false });
    await send('admin', 'POST', '/v1/agents', { id: 'centops-nokey', name: 'No key' });
    const answer = await send('none', 'GET', '/centops/configuration');
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const response = answer.body.response as Array<Record<string, unknown>>;
    const listed = response.find((agent) => agent.id === 'centops-on');
    expect(Object.keys(listed ?? {}).sort()).toEqual([
      'authentication_certificate',
      'capabilities',
      'created_at',
      'id',
      'name',
      'updated_at',
    ]);
    expect(listed?.authentication_certificate).toBe(key);
    expect(response.some((agent) => agent.id === 'centops-off' || agent.id === 'centops-nokey')).toBe(false);
    expect(answer.body.dmr).toEqual({ configVersion: await configVersion(), disabled: expect.arrayContaining(['centops-off']) });
  });
});
