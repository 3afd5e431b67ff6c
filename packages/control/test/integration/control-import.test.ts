/**
 * `GET /v1/export` and `POST /v1/import` (inject, real SQLite): 1000 agents in one call and one configVersion bump; a bad
 * entry at position 999 leaves nothing written; `?dryRun=true` answers the diff and changes nothing; YAML and JSON
 * round-trip; `?prune=true` removes what the document does not list.
 */
import { testKeyPair } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { type ControlFixture, IDENTITY_HEADER, type InjectIdentity, injectIdentity, startControl } from './helpers/control-fixture.js';

let fixture: ControlFixture;
const key = testKeyPair().publicPem;

beforeAll(async () => {
  fixture = await startControl({}, { identify: injectIdentity });
});

afterAll(async () => {
  await fixture?.stop();
});

async function request(
  method: 'GET' | 'POST',
  url: string,
  payload?: string,
  contentType = 'application/json',
  as: InjectIdentity = 'admin',
) {
  const response = await fixture.control.app.inject({
    method,
    url,
    headers: { [IDENTITY_HEADER]: as, ...(payload === undefined ? {} : { 'content-type': contentType }) },
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: response.statusCode, text: response.body, contentType: String(response.headers['content-type']) };
}

async function importDocument(document: unknown, query = '') {
  const answer = await request('POST', `/v1/import${query}`, JSON.stringify(document));
  return { status: answer.status, body: JSON.parse(answer.text) as Record<string, unknown> };
}

async function state(): Promise<{ configVersion: number; agentIds: string[] }> {
  const store = fixture.control.store();
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.agents.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
    if (!page.ok) throw new Error(page.message);
    ids.push(...page.value.items.map((agent) => agent.id));
    cursor = page.value.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { configVersion: await store.configVersion(), agentIds: ids };
}

function agents(count: number, prefix: string) {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(4, '0')}`,
    name: `Agent ${i}`,
    institution: 'RIA',
    groups: ['bulk'],
    labels: { index: String(i) },
    authenticationCertificate: key,
  }));
}

describe('import', () => {
  it('refuses a document with a bad entry at position 999 naming it, and writes nothing', async () => {
    const before = await state();
    const weakKey = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const entries = agents(1000, 'bad');
    entries[999] = {
      ...entries[999],
      authenticationCertificate: weakKey.export({ type: 'spki', format: 'pem' }).toString(),
    } as (typeof entries)[number];
    const refused = await importDocument({ format: 'dmr-control/registry-v1', agents: entries });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'DMR_CONTROL_INVALID_INPUT', field: 'agents.999.authenticationCertificate' });
    const duplicate = agents(1000, 'dup');
    duplicate[999] = { ...(duplicate[999] as (typeof duplicate)[number]), id: 'dup-0003' };
    const dupRefused = await importDocument({ format: 'dmr-control/registry-v1', agents: duplicate });
    expect(dupRefused.body).toMatchObject({ statusCode: 400, field: 'agents.999.id' });
    expect(String(dupRefused.body.message)).toContain('agents.3.id');
    const unknownField = agents(1000, 'unknown') as Array<Record<string, unknown>>;
    unknownField[999] = { ...unknownField[999], colour: 'red' };
    expect((await importDocument({ format: 'dmr-control/registry-v1', agents: unknownField })).body).toMatchObject({
      field: 'agents.999.colour',
    });
    expect(await state()).toEqual(before);
  });

  it('a dry run answers the diff and changes nothing', async () => {
    const before = await state();
    const dry = await importDocument(
      {
        format: 'dmr-control/registry-v1',
        agents: agents(3, 'dry'),
        policy: { document: { format: 'dmr-policy/v1', defaultDecision: 'deny', rules: [] } },
      },
      '?dryRun=true',
    );
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({
      dryRun: true,
      configVersion: before.configVersion,
      diff: { agents: { added: ['dry-0000', 'dry-0001', 'dry-0002'], changed: [], removed: [], unchanged: 0 }, policy: 'added' },
    });
    expect(await state()).toEqual(before);
  });

  it('imports 1000 agents and a policy in one call with one configVersion bump, then reports the same document unchanged', async () => {
    const before = await state();
    const document = {
      format: 'dmr-control/registry-v1',
      agents: agents(1000, 'bulk'),
      policy: { document: { format: 'dmr-policy/v1', defaultDecision: 'allow', rules: [{ id: 'all', effect: 'allow' }] }, comment: 'v1' },
    };
    const imported = await importDocument(document);
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ dryRun: false, configVersion: before.configVersion + 1, diff: { policy: 'added' } });
    expect((imported.body.diff as { agents: { added: string[] } }).agents.added).toHaveLength(1000);
    const after = await state();
    expect(after.configVersion).toBe(before.configVersion + 1);
    expect(after.agentIds.filter((id) => id.startsWith('bulk-'))).toHaveLength(1000);
    const again = await importDocument(document);
    expect(again.body).toMatchObject({
      configVersion: before.configVersion + 1,
      diff: { agents: { unchanged: 1000, added: [] }, policy: 'unchanged' },
    });
    expect((await state()).configVersion).toBe(before.configVersion + 1);
    const changes = await fixture.control.store().changes.list({ subjectId: 'bulk-0999' });
    expect(changes.ok && changes.value.items.map((entry) => entry.action)).toEqual(['agent.create']);
  });

  it('round-trips through YAML export and import, and prunes only when asked', async () => {
    const exported = await request('GET', '/v1/export?format=yaml');
    expect(exported.status).toBe(200);
    expect(exported.contentType).toContain('application/yaml');
    const document = parseYaml(exported.text) as { format: string; configVersion: number; agents: Array<{ id: string; name: string }> };
    expect(document.format).toBe('dmr-control/registry-v1');
    expect(document.agents.length).toBe((await state()).agentIds.length);
    const dry = await request('POST', '/v1/import?dryRun=true', exported.text, 'application/yaml');
    expect(JSON.parse(dry.text).diff).toMatchObject({ agents: { added: [], changed: [], removed: [] }, policy: 'unchanged' });

    const kept = document.agents
      .filter((agent) => agent.id !== 'bulk-0000')
      .map((agent) => (agent.id === 'bulk-0001' ? { ...agent, name: 'Renamed' } : agent));
    const yaml = toYaml({ ...document, agents: kept });
    const merged = JSON.parse((await request('POST', '/v1/import', yaml, 'application/yaml')).text);
    expect(merged.diff.agents).toMatchObject({ changed: [{ id: 'bulk-0001', fields: ['name'] }], removed: [] });
    expect((await state()).agentIds).toContain('bulk-0000');
    const pruned = JSON.parse((await request('POST', '/v1/import?prune=true', yaml, 'application/yaml')).text);
    expect(pruned.diff.agents.removed).toEqual(['bulk-0000']);
    expect((await state()).agentIds).not.toContain('bulk-0000');
  });

  it('refuses YAML that is not one plain document', async () => {
    const before = await state();
    for (const yaml of ['agents: [', 'format: a\nformat: b\n', '!!js/function "x"', 'a: &a [*a]']) {
      const answer = await request('POST', '/v1/import', yaml, 'application/yaml');
      expect(answer.status, yaml).toBe(400);
      expect(JSON.parse(answer.text)).toMatchObject({ code: 'DMR_CONTROL_INVALID_INPUT' });
    }
    expect(await state()).toEqual(before);
  });

  it('is for admins only', async () => {
    expect((await request('POST', '/v1/import', '{}', 'application/json', 'operator')).status).toBe(403);
    expect((await request('GET', '/v1/export', undefined, undefined, 'auditor')).status).toBe(403);
  });
});
