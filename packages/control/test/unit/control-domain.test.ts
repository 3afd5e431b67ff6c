import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalSha256,
  compareCodePoints,
  decodeCursor,
  encodeCursor,
  findUnstorableText,
  hashEnrollmentToken,
  isSha256Hex,
  isStorableText,
  toStorableText,
} from '../../src/domain/index.js';

describe('canonicalJson', () => {
  it('sorts object keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('gives the same text for the same record whatever the key order', () => {
    expect(canonicalJson({ id: 'a', labels: { x: '1', y: '2' } })).toBe(canonicalJson({ labels: { y: '2', x: '1' }, id: 'a' }));
  });

  it('orders keys by UTF-16 code units as RFC 8785 asks (its own example order)', () => {
    const keys = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'];
    // JSON.parse would reorder "1" first (integer keys), so compare the text
    expect(canonicalJson(keys)).toBe(
      `{${order.map((key) => `${JSON.stringify(key)}:${JSON.stringify(keys[key as keyof typeof keys])}`).join(',')}}`,
    );
  });

  it('leaves out undefined and function properties, writes them as null in arrays, and honours toJSON', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: [undefined], d: new Date('2026-12-07T10:00:00Z') })).toBe(
      '{"c":[null],"d":"2026-12-07T10:00:00.000Z"}',
    );
  });

  it('writes numbers and strings as JSON.stringify does (escapes included)', () => {
    expect(canonicalJson([1e21, 0.1, -0, 'é\u0000"\\\n\u2028'])).toBe(JSON.stringify([1e21, 0.1, -0, 'é\u0000"\\\n\u2028']));
  });

  it('refuses bigint, non-finite numbers and cycles', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(1n)).toThrow(TypeError);
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(TypeError);
    expect(() => canonicalJson(cycle)).toThrow(/cycle/);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('canonicalSha256', () => {
  it('is the SHA-256 hex of the canonical JSON, and null for no record', () => {
    const expected = createHash('sha256').update('{"a":1,"b":"ü"}', 'utf8').digest('hex');
    expect(canonicalSha256({ b: 'ü', a: 1 })).toBe(expected);
    expect(canonicalSha256(null)).toBeNull();
    expect(canonicalSha256(undefined)).toBeNull();
  });
});

describe('list cursors', () => {
  it('round-trips string and integer keys of its own list', () => {
    expect(decodeCursor('agents', encodeCursor('agents', 'tax-bot 🇪🇪'), 'string')).toEqual({ ok: true, key: 'tax-bot 🇪🇪' });
    expect(decodeCursor('changes', encodeCursor('changes', 42), 'integer')).toEqual({ ok: true, key: 42 });
  });

  it('is URL-safe text', () => {
    expect(encodeCursor('agents', '???>>>~~~')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('refuses another list’s cursor, a key of the wrong type, and altered or oversized text', () => {
    expect(decodeCursor('agents', encodeCursor('servers', 'a'), 'string')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('another list'),
    });
    expect(decodeCursor('changes', encodeCursor('changes', 'x'), 'integer').ok).toBe(false);
    expect(decodeCursor('changes', encodeCursor('changes', 1.5), 'integer').ok).toBe(false);
    expect(decodeCursor('agents', encodeCursor('agents', 7), 'string').ok).toBe(false);
    for (const text of [
      '',
      'not base64!',
      Buffer.from('null').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
      'A'.repeat(3000),
    ]) {
      expect(decodeCursor('agents', text, 'string').ok).toBe(false);
    }
  });
});

describe('storable text', () => {
  it('accepts any well-formed text without NUL, astral characters included', () => {
    expect(isStorableText("'; DROP TABLE agents; -- 😀 \uFFFF \u2028")).toBe(true);
  });

  it('refuses NUL and lone high or low surrogates', () => {
    expect(isStorableText('a\u0000')).toBe(false);
    expect(isStorableText('\uD800')).toBe(false);
    expect(isStorableText('x\uDC00y')).toBe(false);
    expect(isStorableText('\uDBFF\uDFFF')).toBe(true);
  });

  it('replaces NUL and lone surrogates by U+FFFD where a record matters more than exact text', () => {
    expect(toStorableText('CN=a\u0000b \uD800 \uDC00 😀')).toBe('CN=a\uFFFDb \uFFFD \uFFFD 😀');
    expect(isStorableText(toStorableText('\u0000\uDBFF'))).toBe(true);
  });

  it('names the path of the first bad string, keys included', () => {
    expect(findUnstorableText({ a: 'ok', b: ['x', { c: 'bad\u0000' }] })).toBe('b[1].c');
    expect(findUnstorableText({ labels: { 'k\uD800': 'v' } })).toBe('labels.k\uD800');
    expect(findUnstorableText('\u0000')).toBe('(value)');
    expect(findUnstorableText({ n: 1, t: true, z: null, ok: ['fine'] })).toBeUndefined();
  });
});

describe('code point order', () => {
  it('sorts as SQLite BINARY and PostgreSQL "C" do, unlike the default UTF-16 sort', () => {
    const words = ['\uFFFD', '𝔘', 'b', 'a', 'ab', ''];
    expect([...words].sort(compareCodePoints)).toEqual(['', 'a', 'ab', 'b', '\uFFFD', '𝔘']);
    expect([...words].sort()).not.toEqual([...words].sort(compareCodePoints));
  });
});

describe('enrollment token hash', () => {
  it('is the lowercase SHA-256 hex of the token', () => {
    expect(hashEnrollmentToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(isSha256Hex(hashEnrollmentToken('x'))).toBe(true);
    expect(isSha256Hex('BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD')).toBe(false);
    expect(isSha256Hex('abc')).toBe(false);
  });
});
