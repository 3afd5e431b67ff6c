import { describe, expect, it } from 'vitest';
import { normaliseExportDocument, validateExportDocument } from '../../src/domain/index.js';

const minimal = { apiVersion: 'dmr.ee/v1' as const, kind: 'ControlExport' as const, agents: [{ id: 'tax-bot', name: 'Tax bot' }] };

function refusalOf(value: unknown) {
  const result = validateExportDocument(value);
  if (result.ok) throw new Error('expected a refusal');
  expect(result.code).toBe('DMR_CONTROL_DOCUMENT_INVALID');
  return result.errors;
}

describe('validateExportDocument', () => {
  it('accepts a minimal document and fills every default in', () => {
    const result = validateExportDocument(minimal);
    expect(result).toEqual({
      ok: true,
      value: {
        apiVersion: 'dmr.ee/v1',
        kind: 'ControlExport',
        agents: [
          {
            id: 'tax-bot',
            name: 'Tax bot',
            institution: '',
            contact: '',
            labels: {},
            groups: [],
            authenticationCertificate: null,
            capabilities: [],
            enabled: true,
          },
        ],
        policies: [],
      },
    });
  });

  it('sorts agents by id, policies by version and labels by key; keeps group order', () => {
    const result = validateExportDocument({
      ...minimal,
      configVersion: 7,
      exportedAt: '2026-12-07T10:00:00.000Z',
      agents: [
        { id: 'b', name: 'B', labels: { z: '1', a: '2' }, groups: ['y', 'x'] },
        { id: 'a', name: 'A', enabled: false },
      ],
      policies: [
        { version: 2, document: { rules: [] } },
        { version: 1, document: null, comment: 'first' },
      ],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.value.agents.map((agent) => agent.id)).toEqual(['a', 'b']);
    expect(Object.keys(result.value.agents[1]?.labels ?? {})).toEqual(['a', 'z']);
    expect(result.value.agents[1]?.groups).toEqual(['y', 'x']);
    expect(result.value.agents[0]?.enabled).toBe(false);
    expect(result.value.policies).toEqual([
      { version: 1, document: null, comment: 'first' },
      { version: 2, document: { rules: [] }, comment: '' },
    ]);
    expect(result.value.configVersion).toBe(7);
    expect(result.value.exportedAt).toBe('2026-12-07T10:00:00.000Z');
  });

  it('refuses a wrong apiVersion or kind, naming the field', () => {
    expect(refusalOf({ ...minimal, apiVersion: 'dmr.ee/v2' }).map((error) => error.path)).toContain('apiVersion');
    expect(refusalOf({ ...minimal, kind: 'Export' }).map((error) => error.path)).toContain('kind');
  });

  it('refuses unknown fields on every level', () => {
    expect(refusalOf({ ...minimal, extra: 1 })).toContainEqual({ path: 'extra', message: 'is not allowed' });
    expect(refusalOf({ ...minimal, agents: [{ id: 'a', name: 'A', revision: 3 }] })).toContainEqual({
      path: 'agents.0.revision',
      message: 'is not allowed',
    });
    expect(refusalOf({ ...minimal, policies: [{ version: 1, document: {}, createdBy: 'x' }] })).toContainEqual({
      path: 'policies.0.createdBy',
      message: 'is not allowed',
    });
  });

  it('refuses bad ids, label keys, missing names and non-integer versions', () => {
    const paths = (value: unknown) => refusalOf(value).map((error) => error.path);
    expect(paths({ ...minimal, agents: [{ id: 'no spaces', name: 'x' }] })).toContain('agents.0.id');
    expect(paths({ ...minimal, agents: [{ id: 'a' }] })).toContain('agents.0.name');
    expect(paths({ ...minimal, agents: [{ id: 'a', name: 'A', labels: { 'bad key': 'v' } }] })).toContain('agents.0.labels.bad key');
    expect(paths({ ...minimal, policies: [{ version: 1.5, document: {} }] })).toContain('policies.0.version');
    expect(paths({ ...minimal, agents: [{ id: 'a', name: 'A', groups: ['g', 'g'] }] })).toContain('agents.0.groups');
    expect(paths({ apiVersion: 'dmr.ee/v1', kind: 'ControlExport' })).toContain('agents');
  });

  it('refuses duplicate agent ids and policy versions, naming both places', () => {
    expect(refusalOf({ ...minimal, agents: [...minimal.agents, { id: 'x', name: 'X' }, { id: 'tax-bot', name: 'again' }] })).toEqual([
      { path: 'agents.2.id', message: 'duplicates agents.0.id (tax-bot)' },
    ]);
    expect(
      refusalOf({
        ...minimal,
        policies: [
          { version: 1, document: 1 },
          { version: 1, document: 2 },
        ],
      }),
    ).toEqual([{ path: 'policies.1.version', message: 'duplicates policies.0.version (1)' }]);
  });

  it('reports at most 50 errors for a document full of them', () => {
    const agents = Array.from({ length: 200 }, () => ({ id: 'same', name: 'x' }));
    expect(refusalOf({ ...minimal, agents })).toHaveLength(50);
    const broken = Array.from({ length: 200 }, (_, index) => ({ id: `bad id ${index}`, name: 'x' }));
    expect(refusalOf({ ...minimal, agents: broken }).length).toBeLessThanOrEqual(50);
  });

  it('refuses what is not a document at all', () => {
    for (const value of [null, [], 'text', 42]) expect(refusalOf(value).length).toBeGreaterThan(0);
  });
});

describe('normaliseExportDocument', () => {
  it('is idempotent', () => {
    const once = normaliseExportDocument({ ...minimal, agents: [{ id: 'a', name: 'A', labels: { b: '1', a: '2' } }] });
    expect(normaliseExportDocument(once)).toEqual(once);
  });
});
