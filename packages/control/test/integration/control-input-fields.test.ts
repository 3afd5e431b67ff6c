/**
 * Issue #18's "SQL-ish strings in every field", field by field over the whole admin API (docs/control-plane.md,
 * "Input rules"), on SQLite AND a private PostgreSQL cluster: every body field, query parameter, path parameter and
 * If-Match either refuses `x'; DROP TABLE agents;--` with a 4xx naming that field (a field with a grammar), or takes
 * it as data and reads it back byte-identical (the free-text fields, named in FREE_TEXT). Either way no table changes
 * but by the one row the free-text write adds.
 */
import { randomBytes } from 'node:crypto';
import { type PostgresCluster, startPostgres } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCsr, testKeyPair } from '../helpers/csr.js';
import { type ControlFixture, IDENTITY_HEADER, type InjectIdentity, injectIdentity, startControl } from './helpers/control-fixture.js';

const SQLISH = "x'; DROP TABLE agents;--";
const SQLISH_URL = encodeURIComponent(SQLISH);

/** The free-text fields: any printable Unicode text, stored verbatim (real institution names hold `'` and `;`). */
const FREE_TEXT = [
  'name',
  'institution',
  'contact',
  'policy comment',
  'policy document strings',
  'server report crlNumbers.issuer (a CA subject DN)',
  'namePrefix (query)',
] as const;

interface Case {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly as?: InjectIdentity;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** The field the 4xx must name. */
  readonly field: string;
}

const agent = (fields: Record<string, unknown>) => ({ name: 'n', ...fields });
const regDoc = (fields: Record<string, unknown>) => ({
  format: 'dmr-control/registry-v1',
  agents: [{ id: 'imp-1', name: 'n', ...fields }],
});

/** Every field with a grammar, and how to put the SQL-ish string into it. */
function grammarCases(csr: string, serverCsr: string): ReadonlyArray<readonly [string, Case]> {
  const agentBody = (field: string, fields: Record<string, unknown>): Case => ({
    method: 'POST',
    url: '/v1/agents',
    body: agent(fields),
    field,
  });
  const patch = (field: string, fields: Record<string, unknown>): Case => ({
    method: 'PATCH',
    url: '/v1/agents/fixed-1',
    body: fields,
    headers: { 'if-match': '"1"' },
    field,
  });
  const importDoc = (field: string, fields: Record<string, unknown>): Case => ({
    method: 'POST',
    url: '/v1/import',
    body: regDoc(fields),
    field,
  });
  const token = (field: string, body: Record<string, unknown>, name = 'dmr-1.example'): Case => ({
    method: 'POST',
    url: `/v1/servers/${name}/enrollment-tokens`,
    body,
    field,
  });
  const issue = (field: string, body: Record<string, unknown>): Case => ({
    method: 'POST',
    url: '/v1/certificates',
    body: { kind: 'agent', subjectId: 'fixed-1', csr, ...body },
    field,
  });
  const report = (field: string, body: Record<string, unknown>): Case => ({
    method: 'PUT',
    url: '/v1/servers/dmr-1',
    as: 'server',
    body: { configVersion: 1, crlNumbers: [], version: '1.0.0', startedAt: new Date().toISOString(), ...body },
    field,
  });
  const get = (field: string, url: string, as: InjectIdentity = 'admin'): Case => ({ method: 'GET', url, as, field });
  return [
    // POST /v1/agents and PATCH /v1/agents/{id}
    ['agent id', agentBody('id', { id: SQLISH })],
    ['agent label key', agentBody(`labels.${SQLISH}`, { labels: { [SQLISH]: 'v' } })],
    ['agent label value', agentBody('labels.team', { labels: { team: SQLISH } })],
    ['agent group', agentBody('groups.0', { groups: [SQLISH] })],
    ['agent capability', agentBody('capabilities.0', { capabilities: [SQLISH] })],
    ['agent authenticationCertificate', agentBody('authenticationCertificate', { authenticationCertificate: SQLISH })],
    ['agent enabled', agentBody('enabled', { enabled: SQLISH })],
    ['patch label value', patch('labels.team', { labels: { team: SQLISH } })],
    ['patch group', patch('groups.0', { groups: [SQLISH] })],
    ['patch id (path)', { ...patch('id', { name: 'n' }), url: `/v1/agents/${SQLISH_URL}` }],
    ['patch If-Match', { ...patch('If-Match', { name: 'n' }), headers: { 'if-match': SQLISH } }],
    ['delete If-Match', { method: 'DELETE', url: '/v1/agents/fixed-1', headers: { 'if-match': SQLISH }, field: 'If-Match' }],
    ['get agent id (path)', get('id', `/v1/agents/${SQLISH_URL}`)],
    // POST /v1/import
    ['import format', { method: 'POST', url: '/v1/import', body: { ...regDoc({}), format: SQLISH }, field: 'format' }],
    ['import agent id', importDoc('agents.0.id', { id: SQLISH })],
    ['import label value', importDoc('agents.0.labels.team', { labels: { team: SQLISH } })],
    ['import group', importDoc('agents.0.groups.0', { groups: [SQLISH] })],
    ['import capability', importDoc('agents.0.capabilities.0', { capabilities: [SQLISH] })],
    ['import key', importDoc('agents.0.authenticationCertificate', { authenticationCertificate: SQLISH })],
    ['import exportedAt', { method: 'POST', url: '/v1/import', body: { ...regDoc({}), exportedAt: SQLISH }, field: 'exportedAt' }],
    ['import configVersion', { method: 'POST', url: '/v1/import', body: { ...regDoc({}), configVersion: SQLISH }, field: 'configVersion' }],
    [
      'import policy version',
      { method: 'POST', url: '/v1/import', body: { ...regDoc({}), policy: { document: {}, version: SQLISH } }, field: 'policy.version' },
    ],
    ['import dryRun (query)', { method: 'POST', url: `/v1/import?dryRun=${SQLISH_URL}`, body: regDoc({}), field: 'dryRun' }],
    ['import prune (query)', { method: 'POST', url: `/v1/import?prune=${SQLISH_URL}`, body: regDoc({}), field: 'prune' }],
    ['export format (query)', get('format', `/v1/export?format=${SQLISH_URL}`)],
    // enrollment tokens and certificates
    ['agent token id (path)', { method: 'POST', url: `/v1/agents/${SQLISH_URL}/enrollment-tokens`, body: {}, field: 'id' }],
    ['server token name (path)', token('name', { dnsNames: ['a.example'] }, SQLISH_URL)],
    ['server token kind', token('kind', { kind: SQLISH })],
    ['server token dnsNames', token('dnsNames.0', { dnsNames: [SQLISH] })],
    ['server token ipAddresses', token('ipAddresses.0', { ipAddresses: [SQLISH] })],
    ['relay token user', token('user', { kind: 'relay-user', user: SQLISH })],
    ['issue kind', issue('kind', { kind: SQLISH })],
    ['issue subjectId', issue('subjectId', { subjectId: SQLISH })],
    ['issue csr', issue('csr', { csr: SQLISH })],
    ['issue dnsNames', issue('dnsNames.0', { kind: 'server', subjectId: 'dmr-1.example', csr: serverCsr, dnsNames: [SQLISH] })],
    ['issue ipAddresses', issue('ipAddresses.0', { kind: 'server', subjectId: 'dmr-1.example', csr: serverCsr, ipAddresses: [SQLISH] })],
    [
      'revocation serial (path)',
      { method: 'POST', url: `/v1/certificates/${SQLISH_URL}/revocation`, body: { reason: 'superseded' }, field: 'serial' },
    ],
    ['revocation reason', { method: 'POST', url: '/v1/certificates/0A0B/revocation', body: { reason: SQLISH }, field: 'reason' }],
    ['certificate serial (path)', get('serial', `/v1/certificates/${SQLISH_URL}`)],
    ['enroll token', { method: 'POST', url: '/v1/enroll', as: 'none', body: { token: SQLISH, csr }, field: 'token' }],
    ['enroll csr', { method: 'POST', url: '/v1/enroll', as: 'none', body: { token: 'a'.repeat(43), csr: SQLISH }, field: 'csr' }],
    ['renew certificate', { method: 'POST', url: '/v1/renew', as: 'server', body: { csr, certificate: SQLISH }, field: 'certificate' }],
    // policies
    ['policy document', { method: 'POST', url: '/v1/policies', body: { document: SQLISH }, field: 'document' }],
    ['policy version (path)', get('version', `/v1/policies/${SQLISH_URL}`)],
    // server reports
    ['report instanceId (path)', { ...report('instanceId', {}), url: `/v1/servers/${SQLISH_URL}` }],
    ['report configVersion', report('configVersion', { configVersion: SQLISH })],
    ['report version', report('version', { version: SQLISH })],
    ['report startedAt', report('startedAt', { startedAt: SQLISH })],
    ['report crlNumber', report('crlNumbers.0.crlNumber', { crlNumbers: [{ issuer: 'CN=DMR Agents CA', crlNumber: SQLISH }] })],
    // list queries
    ...(['/v1/agents', '/v1/changes', '/v1/certificates', '/v1/policies', '/v1/servers'] as const).flatMap(
      (path) =>
        [
          [`${path} limit`, get('limit', `${path}?limit=${SQLISH_URL}`)],
          [`${path} cursor`, get('cursor', `${path}?cursor=${SQLISH_URL}`)],
        ] as const,
    ),
    ['agents enabled', get('enabled', `/v1/agents?enabled=${SQLISH_URL}`)],
    ['agents group', get('group', `/v1/agents?group=${SQLISH_URL}`)],
    ['agents label', get('label', `/v1/agents?label=team=${SQLISH_URL}`)],
    ['agents hasKey', get('hasKey', `/v1/agents?hasKey=${SQLISH_URL}`)],
    ['changes subjectKind', get('subjectKind', `/v1/changes?subjectKind=${SQLISH_URL}`)],
    ['changes subjectId', get('subjectId', `/v1/changes?subjectId=${SQLISH_URL}`)],
    ['changes action', get('action', `/v1/changes?action=${SQLISH_URL}`)],
    ['changes outcome', get('outcome', `/v1/changes?outcome=${SQLISH_URL}`)],
    ['changes since', get('since', `/v1/changes?since=${SQLISH_URL}`)],
    ['certificates caId', get('caId', `/v1/certificates?caId=${SQLISH_URL}`)],
    ['certificates subjectKind', get('subjectKind', `/v1/certificates?subjectKind=${SQLISH_URL}`)],
    ['certificates subjectId', get('subjectId', `/v1/certificates?subjectId=${SQLISH_URL}`)],
    ['certificates revoked', get('revoked', `/v1/certificates?revoked=${SQLISH_URL}`)],
    ['certificates expiringBefore', get('expiringBefore', `/v1/certificates?expiringBefore=${SQLISH_URL}`)],
    ['crl purpose', get('purpose', `/v1/crl?purpose=${SQLISH_URL}`, 'none')],
    ['ca-certificates purpose', get('purpose', `/v1/ca-certificates?purpose=${SQLISH_URL}`, 'none')],
  ];
}

/** Row counts of the tables the API writes, and the configVersion. */
interface Counts {
  readonly configVersion: number;
  readonly agents: number;
  readonly changes: number;
  readonly policies: number;
  readonly certificates: number;
  readonly servers: number;
}

let cluster: PostgresCluster;
let csr: string;
let serverCsr: string;

beforeAll(async () => {
  [cluster, csr, serverCsr] = await Promise.all([
    startPostgres(),
    makeCsr(testKeyPair(), { cn: 'fixed-1' }),
    makeCsr(testKeyPair(), { uris: ['urn:dmr:server:dmr-1.example'] }),
  ]);
});

afterAll(async () => {
  await cluster?.stop();
});

describe.each(['sqlite', 'postgres'] as const)('on %s', (engine) => {
  let fixture: ControlFixture;

  beforeAll(async () => {
    const url = engine === 'postgres' ? await cluster.createDatabase(`input_${randomBytes(6).toString('hex')}`) : undefined;
    fixture = await startControl(url ? { DMR_CONTROL_DATABASE_URL: url } : {}, { identify: injectIdentity });
    expect((await send({ method: 'POST', url: '/v1/agents', body: { id: 'fixed-1', name: 'Fixed' }, field: '' })).status).toBe(201);
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  async function send(request: Omit<Case, 'field'> & { field?: string }) {
    const response = await fixture.control.app.inject({
      method: request.method,
      url: request.url,
      headers: {
        [IDENTITY_HEADER]: request.as ?? 'admin',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      },
      ...(request.body === undefined ? {} : { payload: JSON.stringify(request.body) }),
    });
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
  }

  /** Row counts of every table the API writes, and the configVersion. */
  async function counts(): Promise<Counts> {
    const store = fixture.control.store();
    const all = async (list: (query: { limit: number; cursor?: string }) => Promise<unknown>) => {
      let total = 0;
      let cursor: string | undefined;
      do {
        const page = (await list({ limit: 1000, ...(cursor ? { cursor } : {}) })) as {
          ok: boolean;
          value: { items: unknown[]; nextCursor: string | null };
        };
        if (!page.ok) throw new Error('list failed');
        total += page.value.items.length;
        cursor = page.value.nextCursor ?? undefined;
      } while (cursor);
      return total;
    };
    return {
      configVersion: await store.configVersion(),
      agents: await all((query) => store.agents.list(query)),
      // refused requests are recorded (outcome refused): that is the audit trail, not a change
      changes: await all((query) => store.changes.list({ ...query, outcome: 'applied' })),
      policies: await all((query) => store.policies.list(query)),
      certificates: await all((query) => store.certificates.list(query)),
      servers: await all((query) => store.servers.list(query)),
    };
  }

  // the CSRs are made in beforeAll: the table holds placeholders the test replaces
  it.each(grammarCases('(csr)', '(server csr)'))('SQL-ish in %s: a 4xx naming the field, nothing written', async (_label, template) => {
    const text = JSON.stringify(template)
      .replaceAll('"(csr)"', JSON.stringify(csr))
      .replaceAll('"(server csr)"', JSON.stringify(serverCsr));
    const request = JSON.parse(text) as Case;
    const before = await counts();
    const answer = await send(request);
    expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
    expect(answer.body, JSON.stringify(answer.body)).toMatchObject({ statusCode: answer.status, field: request.field });
    expect(String(answer.body.code)).toMatch(/^DMR_/);
    expect(await counts()).toEqual(before);
  });

  it(`free text (${FREE_TEXT.join(', ')}) is stored and read back byte-identical; the tables are intact`, async () => {
    const texts = {
      name: SQLISH,
      institution: "Mulgi valla 'Kool'; DROP TABLE agents;-- Ühendus ÄÖÜ 東京 🙂",
      contact: 'Robert\'); DELETE FROM change_log;-- <robert@example.ee> "quoted" \\ backslash %_ wildcard',
    };
    const before = await counts();
    const created = await send({ method: 'POST', url: '/v1/agents', body: { id: 'free-text', ...texts } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const read = await send({ method: 'GET', url: '/v1/agents/free-text', as: 'auditor' });
    for (const [field, value] of Object.entries(texts)) {
      expect(Buffer.from(String(read.body[field]), 'utf8').equals(Buffer.from(value, 'utf8')), field).toBe(true);
    }
    // the prefix filter matches the text literally (no LIKE wildcards, no injection)
    const found = await send({ method: 'GET', url: `/v1/agents?namePrefix=${encodeURIComponent("x'; DROP")}`, as: 'auditor' });
    expect((found.body.items as Array<{ id: string }>).map((item) => item.id)).toEqual(['free-text']);
    const wildcard = await send({ method: 'GET', url: `/v1/agents?namePrefix=${encodeURIComponent('%')}`, as: 'auditor' });
    expect(wildcard.body.items).toEqual([]);

    const comment = "rollout 'phase 2'; -- DROP TABLE policies; /* note */ 🙂";
    // a valid dmr-policy/v1 document (issue 19) whose free-text members hold SQL-ish text
    const document = {
      format: 'dmr-policy/v1',
      defaultDecision: 'deny',
      description: "x'; DROP TABLE policies;--",
      rules: [{ id: 'r1', effect: 'allow', description: 'allow { input.a == "b;" } -- \'quoted\' /* c */' }],
    };
    const policy = await send({ method: 'POST', url: '/v1/policies', body: { document, comment } });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);
    const policyRead = await send({ method: 'GET', url: `/v1/policies/${policy.body.version}`, as: 'auditor' });
    expect(policyRead.body.comment).toBe(comment);
    expect(policyRead.body.document).toEqual(document);

    // a CA's subject DN, as a server reports it: an organisation name may hold both
    const issuer = "CN=DMR Agents CA, O=Mulgi valla 'Kool'; OU=IT";
    const report = { configVersion: 1, crlNumbers: [{ issuer, crlNumber: '7' }], version: '1.0.0', startedAt: new Date().toISOString() };
    expect((await send({ method: 'PUT', url: '/v1/servers/dmr-text', as: 'server', body: report })).status).toBe(200);
    const servers = await send({ method: 'GET', url: '/v1/servers', as: 'auditor' });
    const reported = (servers.body.items as Array<{ instanceId: string; crlNumbers: Array<{ issuer: string }> }>).find(
      (item) => item.instanceId === 'dmr-text',
    );
    expect(reported?.crlNumbers[0]?.issuer).toBe(issuer);

    const after = await counts();
    expect(after).toEqual({
      ...before,
      servers: before.servers + 1,
      configVersion: before.configVersion + 2,
      agents: before.agents + 1,
      policies: before.policies + 1,
      changes: before.changes + 2,
    });
    // the tables are still there and answer
    const listed = await send({ method: 'GET', url: '/v1/agents?limit=1000', as: 'auditor' });
    expect((listed.body.items as unknown[]).length).toBe(after.agents);
  });
});
