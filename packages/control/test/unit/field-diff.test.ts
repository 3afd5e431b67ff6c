import { describe, expect, it } from 'vitest';
import { diffValues, isJsonEqual } from '../../src/cli/field-diff.js';

describe('diffValues', () => {
  it('finds nothing between equal values, whatever their key order', () => {
    expect(diffValues({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it('lists changed, added and removed keys field by field, sorted, below a path', () => {
    expect(diffValues({ team: 'red', zone: 'a', nested: { x: 1 } }, { team: 'blue', tier: '1', nested: { x: 2 } }, 'labels')).toEqual([
      { path: 'labels.nested.x', before: 1, after: 2 },
      { path: 'labels.team', before: 'red', after: 'blue' },
      { path: 'labels.tier', after: '1' },
      { path: 'labels.zone', before: 'a' },
    ]);
  });

  it('compares lists as a whole', () => {
    expect(diffValues(['x'], ['x', 'y'], 'groups')).toEqual([{ path: 'groups', before: ['x'], after: ['x', 'y'] }]);
  });

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
