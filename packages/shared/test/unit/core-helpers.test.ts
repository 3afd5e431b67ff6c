// Small shared helpers whose edges the wider tests did not pin down (found by mutation testing, docs/testing.md):
// the one-line reason of a refusal, log-level parsing of seed lists, and eviction after the map ran empty.
import { describe, expect, it } from 'vitest';
import { OldestFirst } from '../../src/collections/oldest-first.js';
import { parseLogLevels } from '../../src/config/log-level.js';
import { describeErrors } from '../../src/result.js';

describe('describeErrors', () => {
  it('joins reasons with "; ", prefixing each with its path when it has one', () => {
    expect(
      describeErrors([
        { path: 'id', message: 'is required' },
        { path: '', message: 'too large' },
      ]),
    ).toBe('id: is required; too large');
    expect(describeErrors([])).toBe('');
  });
});

describe('parseLogLevels', () => {
  it('reads levels case-insensitively around spaces, and refuses a list with an unknown level', () => {
    expect(parseLogLevels(' WARN , Error')).toBe('warn');
    expect(parseLogLevels('info,nope')).toBeUndefined();
  });
});

describe('OldestFirst', () => {
  it('evicts entries added after it found the map empty', () => {
    const map = new Map<string, true>();
    const oldest = new OldestFirst(map);
    expect(oldest.evict()).toBe(false);
    map.set('a', true);
    map.set('b', true);
    expect(oldest.evict()).toBe(true);
    expect([...map.keys()]).toEqual(['b']);
  });
});
