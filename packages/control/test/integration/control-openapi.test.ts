/**
 * The OpenAPI 3.1 document of dmr-control's admin API: the committed packages/control/openapi.json is what
 * buildOpenApiDocument() generates from the route schemas and what a running dmr-control serves at
 * GET /v1/openapi.json (else run `npm run openapi`); it validates against the official 3.1 schema and lists, for every
 * guarded operation, the mutualTLS security scheme and the roles the caller guard admits.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/api/index.js';
import { ACCESS_ROLES } from '../../src/domain/index.js';
import { type ControlFixture, call, startControl } from './helpers/control-fixture.js';

type Json = Record<string, unknown>;

const committed = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as Json;
let fixture: ControlFixture;

beforeAll(async () => {
  fixture = await startControl();
});

afterAll(async () => {
  await fixture?.stop();
});

describe('packages/control/openapi.json', () => {
  it('equals the document generated from the route schemas (else run `npm run openapi`)', async () => {
    expect(await buildOpenApiDocument()).toEqual(committed);
  });

  it('is what a running dmr-control serves at GET /v1/openapi.json, without a client certificate', async () => {
    const answer = await call(fixture, { path: '/v1/openapi.json' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toContain('application/json');
    expect(answer.json).toEqual(committed);
  });

  it('is a valid OpenAPI 3.1 document for a real validator, which refuses it once broken', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(committed));
    expect(result.errors ?? []).toEqual([]);
    expect(validator.version).toBe('3.1');
    const broken = structuredClone(committed);
    delete broken.info;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('marks every guarded operation with mutualTLS and the roles of the caller guard, and the public ones without', () => {
    const paths = committed.paths as Record<string, Record<string, Json>>;
    const publicPaths = [
      '/v1/health',
      '/v1/ready',
      '/metrics',
      '/v1/openapi.json',
      '/centops/configuration',
      '/v1/enroll',
      '/v1/crl',
      '/v1/ca-certificates',
    ];
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (publicPaths.includes(path)) {
          expect(operation.security, `${method} ${path}`).toBeUndefined();
          continue;
        }
        expect(operation.security, `${method} ${path}`).toEqual([{ mutualTLS: [] }]);
        const access = /\(`([a-z-]+:[a-z-]+)`\)/.exec(String(operation.description))?.[1] as keyof typeof ACCESS_ROLES;
        expect(String(operation.description)).toContain(`Roles: ${ACCESS_ROLES[access].join(', ')}`);
      }
    }
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        ...publicPaths,
        '/v1/agents',
        '/v1/agents/{id}',
        '/v1/import',
        '/v1/export',
        '/v1/changes',
        '/v1/renew',
        '/v1/certificates',
        '/v1/certificates/{serial}/revocation',
        '/v1/agents/{id}/enrollment-tokens',
        '/v1/servers/{name}/enrollment-tokens',
      ]),
    );
  });
});
