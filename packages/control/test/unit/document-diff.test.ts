import { describe, expect, it } from 'vitest';
import {
  type ControlExportDocument,
  diffDocuments,
  diffValues,
  isEmptyDiff,
  isJsonEqual,
  normaliseExportDocument,
} from '../../src/domain/index.js';

function documentOf(agents: ControlExportDocument['agents'], policies: ControlExportDocument['policies'] = []) {
  return normaliseExportDocument({ apiVersion: 'dmr.ee/v1', kind: 'ControlExport', agents, policies });
}

describe('diffDocuments', () => {
  it('finds nothing between a document and itself, nor between defaults left out and spelled out', () => {
    const terse = documentOf([{ id: 'a', name: 'A' }], [{ version: 1, document: { x: 1 } }]);
    const spelled = documentOf(
      [
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
      [{ version: 1, document: { x: 1 }, comment: '' }],
    );
    const diff = diffDocuments(terse, spelled);
    expect(isEmptyDiff(diff)).toBe(true);
    expect(diff.agents.unchanged).toBe(1);
    expect(diff.policies.unchanged).toBe(1);
  });

  it('lists added, changed (field by field) and removed agents, keys sorted', () => {
    const current = documentOf([
      { id: 'keep', name: 'Keep' },
      { id: 'old', name: 'Old' },
      { id: 'edit', name: 'Edit', labels: { team: 'red', zone: 'a' }, groups: ['x'] },
    ]);
    const desired = documentOf([
      { id: 'new-2', name: 'New 2' },
      { id: 'keep', name: 'Keep' },
      { id: 'edit', name: 'Edited', labels: { team: 'blue', tier: '1' }, groups: ['x', 'y'], enabled: false },
      { id: 'new-1', name: 'New 1' },
    ]);
    expect(diffDocuments(current, desired).agents).toEqual({
      added: ['new-1', 'new-2'],
      changed: [
        {
          key: 'edit',
          fields: [
            { path: 'enabled', before: true, after: false },
            { path: 'groups', before: ['x'], after: ['x', 'y'] },
            { path: 'labels.team', before: 'red', after: 'blue' },
            { path: 'labels.tier', after: '1' },
            { path: 'labels.zone', before: 'a' },
            { path: 'name', before: 'Edit', after: 'Edited' },
          ],
        },
      ],
      removed: ['old'],
      unchanged: 1,
    });
  });

  it('diffs policies by version, inside their documents', () => {
    const current = documentOf(
      [],
      [
        { version: 1, document: { rules: [{ allow: true }], mode: 'builtin' } },
        { version: 2, document: 'gone' },
      ],
    );
    const desired = documentOf(
      [],
      [
        { version: 1, document: { rules: [{ allow: false }], mode: 'builtin' }, comment: 'why' },
        { version: 3, document: {} },
      ],
    );
    const diff = diffDocuments(current, desired);
    expect(diff.policies).toEqual({
      added: [3],
      changed: [
        {
          key: 1,
          fields: [
            { path: 'comment', before: '', after: 'why' },
            { path: 'document.rules', before: [{ allow: true }], after: [{ allow: false }] },
          ],
        },
      ],
      removed: [2],
      unchanged: 0,
    });
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it('sorts numeric keys as numbers', () => {
    const diff = diffDocuments(
      documentOf([]),
      documentOf(
        [],
        [10, 9, 100].map((version) => ({ version, document: null })),
      ),
    );
    expect(diff.policies.added).toEqual([9, 10, 100]);
  });

  it('a changed certificate is one field with both PEMs', () => {
    const diff = diffDocuments(
      documentOf([{ id: 'a', name: 'A', authenticationCertificate: 'PEM-1' }]),
      documentOf([{ id: 'a', name: 'A', authenticationCertificate: null }]),
    );
    expect(diff.agents.changed).toEqual([{ key: 'a', fields: [{ path: 'authenticationCertificate', before: 'PEM-1', after: null }] }]);
  });
});

describe('diffValues', () => {
  it('quotes keys that are not identifiers', () => {
    expect(diffValues({ labels: { 'dmr.ee/tier': '1' } }, { labels: { 'dmr.ee/tier': '2' } })).toEqual([
      { path: 'labels["dmr.ee/tier"]', before: '1', after: '2' },
    ]);
  });

  it('reports a type change as the whole value, at the root with an empty path', () => {
    expect(diffValues({ a: 1 }, [1])).toEqual([{ path: '', before: { a: 1 }, after: [1] }]);
    expect(diffValues({ a: { b: 1 } }, { a: null })).toEqual([{ path: 'a', before: { b: 1 }, after: null }]);
  });
});

describe('isJsonEqual', () => {
  it('ignores object key order, not array order', () => {
    expect(isJsonEqual({ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(isJsonEqual([1, 2], [2, 1])).toBe(false);
    expect(isJsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(isJsonEqual([], {})).toBe(false);
    expect(isJsonEqual(null, {})).toBe(false);
    expect(isJsonEqual(1, '1')).toBe(false);
  });
});
