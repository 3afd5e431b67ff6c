/**
 * Issue 19: `GET /v1/policies/bundle.tar.gz`, the OPA bundle of the latest policy (docs/policy.md "OPA sidecar"),
 * through `inject()` on a real SQLite store: its three files (data.json with the rule index), ETag = policy version with 304 on If-None-Match, and
 * who may read it (the policies:read roles). A real OPA polling it: test/e2e/policy-opa-sidecar.test.ts.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { buildRegoIndex, parsePolicyDocument } from '@dmr/shared/policy';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_REGO_FILE } from '../../src/api/policy-bundle.js';
import { type ControlFixture, IDENTITY_HEADER, type InjectIdentity, injectIdentity, startControl } from './helpers/control-fixture.js';

let fixture: ControlFixture;

beforeAll(async () => {
  fixture = await startControl({}, { identify: injectIdentity });
});

afterAll(async () => {
  await fixture?.stop();
});

const BUNDLE = '/v1/policies/bundle.tar.gz';

function get(as: InjectIdentity, headers: Record<string, string> = {}) {
  return fixture.control.app.inject({ method: 'GET', url: BUNDLE, headers: { [IDENTITY_HEADER]: as, ...headers } });
}

/** The files of a gzipped tar, by name. */
async function filesOf(gzipped: Buffer): Promise<Record<string, string>> {
  const extract = tarStream.extract();
  const files: Record<string, string> = {};
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        files[header.name] = Buffer.concat(chunks).toString('utf8');
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(gunzipSync(gzipped));
  await done;
  return files;
}

const document = {
  format: 'dmr-policy/v1',
  defaultDecision: 'deny',
  rules: [{ id: 'a-to-b', effect: 'allow', from: { agents: ['a'] }, to: { agents: ['b'] } }],
};

describe('GET /v1/policies/bundle.tar.gz', () => {
  it('without a stored policy: revision 0 and empty dmr data (NO_POLICY), then the latest version once stored', async () => {
    const empty = await get('server');
    expect(empty.statusCode).toBe(200);
    expect(empty.headers['content-type']).toBe('application/gzip');
    const emptyFiles = await filesOf(empty.rawPayload);
    expect(JSON.parse(emptyFiles['.manifest'] ?? '')).toEqual({ revision: '0', roots: ['dmr'] });
    expect(JSON.parse(emptyFiles['data.json'] ?? '')).toEqual({ dmr: {} });
    expect(empty.headers.etag).toMatch(/^"0-[0-9a-f]{12}"$/);

    const created = await fixture.control.app.inject({
      method: 'POST',
      url: '/v1/policies',
      headers: { [IDENTITY_HEADER]: 'admin', 'content-type': 'application/json' },
      payload: JSON.stringify({ document }),
    });
    expect(created.statusCode).toBe(201);
    const version = (JSON.parse(created.body) as { version: number }).version;

    const bundle = await get('auditor');
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers.etag).toMatch(new RegExp(`^"${version}-[0-9a-f]{12}"$`));
    const files = await filesOf(bundle.rawPayload);
    expect(Object.keys(files).sort()).toEqual(['.manifest', 'data.json', 'dmr/dmr.rego']);
    expect(JSON.parse(files['.manifest'] ?? '')).toEqual({ revision: String(version), roots: ['dmr'] });
    // data.dmr carries the rule index dmr.rego looks candidate rules up in, built by the one TS function
    const parsed = parsePolicyDocument(document);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(JSON.parse(files['data.json'] ?? '')).toEqual({
      dmr: { policy: document, policyVersion: version, index: buildRegoIndex(parsed.document) },
    });
    expect(JSON.parse(files['data.json'] ?? '').dmr.index).toEqual({
      from: { 'a:a': [0] },
      to: { 'a:b': [0] },
      fromOnly: {},
      toOnly: {},
      any: [],
      groups: {},
    });
    expect(files['dmr/dmr.rego']).toBe(readFileSync(SHIPPED_REGO_FILE, 'utf8'));
  });

  it('answers 304 to If-None-Match with the current ETag, 200 to an old one', async () => {
    const etag = String((await get('server')).headers.etag);
    const same = await get('server', { 'if-none-match': etag });
    expect(same.statusCode).toBe(304);
    expect(same.rawPayload.length).toBe(0);
    expect(same.headers.etag).toBe(etag);
    expect((await get('server', { 'if-none-match': '"0-000000000000"' })).statusCode).toBe(200);
  });

  it('is read by the policies:read roles only', async () => {
    for (const role of ['admin', 'operator', 'auditor', 'server'] as const) expect((await get(role)).statusCode).toBe(200);
    expect((await get('agent')).statusCode).toBe(403);
    expect((await get('none')).statusCode).toBe(401);
  });
});
