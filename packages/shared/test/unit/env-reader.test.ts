// EnvReader: what each read returns and the exact problem line an operator sees for each bad variable
// (the start-up error names the variable and what is wrong with it; `finish` lists them all at once).
import { DmrError, EnvReader } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

/** The message `finish()` throws, or undefined when it does not throw. */
function problemsOf(read: EnvReader): string | undefined {
  try {
    read.finish();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(DmrError);
    expect((error as DmrError).code).toBe('DMR_CONFIG_INVALID');
    return (error as Error).message;
  }
}

describe('EnvReader strings', () => {
  it('returns a required string trimmed, and names a missing or blank one', () => {
    const read = new EnvReader({ NAME: '  relay-1 ', BLANK: '   ' });
    expect(read.requiredString('NAME')).toBe('relay-1');
    expect(read.requiredString('BLANK')).toBe('');
    expect(read.requiredString('ABSENT')).toBe('');
    expect(problemsOf(read)).toBe('invalid configuration: BLANK is required; ABSENT is required');
  });

  it('falls back for an optional string only when it is absent or blank', () => {
    const read = new EnvReader({ SET: ' value ', BLANK: '' });
    expect(read.string('SET', 'fallback')).toBe('value');
    expect(read.string('BLANK', 'fallback')).toBe('fallback');
    expect(read.optionalString('SET')).toBe('value');
    expect(read.optionalString('BLANK')).toBeUndefined();
    expect(problemsOf(read)).toBeUndefined();
  });
});

describe('EnvReader.int', () => {
  it('uses the default when absent, and requires a variable without one', () => {
    const read = new EnvReader({});
    expect(read.int('WITH_DEFAULT', { default: 7 })).toBe(7);
    expect(problemsOf(read)).toBeUndefined();
    expect(read.int('WITHOUT_DEFAULT')).toBe(0);
    expect(problemsOf(read)).toBe('invalid configuration: WITHOUT_DEFAULT is required');
  });

  it('reads negative and padded integers', () => {
    const read = new EnvReader({ NEG: '-12', PADDED: ' 42 ' });
    expect(read.int('NEG')).toBe(-12);
    expect(read.int('PADDED')).toBe(42);
    expect(problemsOf(read)).toBeUndefined();
  });

  it('refuses anything but a whole decimal integer, naming the value, and returns the default', () => {
    for (const value of ['12abc', 'abc12', '1.5', '1e3', '0x10', '9007199254740993']) {
      const read = new EnvReader({ N: value });
      expect(read.int('N', { default: 3 })).toBe(3);
      expect(problemsOf(read)).toBe(`invalid configuration: N must be an integer, got "${value}"`);
    }
    const read = new EnvReader({ N: 'x' });
    expect(read.int('N')).toBe(0);
  });

  it('accepts both bounds and refuses one beyond each, naming bound and value', () => {
    const options = { min: 10, max: 20 };
    const inside = new EnvReader({ LOW: '10', HIGH: '20' });
    expect([inside.int('LOW', options), inside.int('HIGH', options)]).toEqual([10, 20]);
    expect(problemsOf(inside)).toBeUndefined();

    const outside = new EnvReader({ LOW: '9', HIGH: '21' });
    expect([outside.int('LOW', options), outside.int('HIGH', options)]).toEqual([9, 21]);
    expect(problemsOf(outside)).toBe('invalid configuration: LOW must be ≥ 10, got 9; HIGH must be ≤ 20, got 21');
  });
});

describe('EnvReader.bool', () => {
  it('reads true/1/yes and false/0/no in any case, and falls back when absent', () => {
    const env = { A: 'TRUE', B: '1', C: 'Yes', D: 'False', E: '0', F: 'NO' };
    const read = new EnvReader(env);
    expect(['A', 'B', 'C'].map((name) => read.bool(name, false))).toEqual([true, true, true]);
    expect(['D', 'E', 'F'].map((name) => read.bool(name, true))).toEqual([false, false, false]);
    expect(read.bool('ABSENT', true)).toBe(true);
    expect(read.bool('ABSENT', false)).toBe(false);
    expect(problemsOf(read)).toBeUndefined();
  });

  it('refuses anything else, naming it, and returns the fallback', () => {
    const read = new EnvReader({ FLAG: 'Maybe' });
    expect(read.bool('FLAG', true)).toBe(true);
    expect(problemsOf(read)).toBe('invalid configuration: FLAG must be true or false, got "maybe"');
  });
});

describe('EnvReader.url', () => {
  it('returns the URL or its fallback, and requires one without a fallback', () => {
    const read = new EnvReader({ URL: ' https://relay.example/ ' });
    expect(read.url('URL', ['https:'])).toBe('https://relay.example/');
    expect(read.url('OTHER', ['http:'], 'http://fallback/')).toBe('http://fallback/');
    expect(problemsOf(read)).toBeUndefined();
    expect(read.url('MISSING', ['http:'])).toBe('');
    expect(problemsOf(read)).toBe('invalid configuration: MISSING is required');
  });

  it('names a scheme not in the list, and text that is no URL', () => {
    const read = new EnvReader({ A: 'ftp://x', B: 'not a url' });
    expect(read.url('A', ['http:', 'https:'])).toBe('ftp://x');
    expect(read.url('B', ['http:'])).toBe('not a url');
    expect(problemsOf(read)).toBe('invalid configuration: A must use http: or https:, got "ftp:"; B is not a valid URL');
  });
});

describe('EnvReader.problem and finish', () => {
  it('passes with no problem, and lists a caller problem after the reads in the order seen', () => {
    const read = new EnvReader({});
    expect(() => read.finish()).not.toThrow();
    read.requiredString('FIRST');
    read.problem('SECOND and THIRD cannot both be set');
    expect(problemsOf(read)).toBe('invalid configuration: FIRST is required; SECOND and THIRD cannot both be set');
  });
});
