import { describe, expect, it } from 'vitest';
import { derInteger, parseDerInteger } from '../../src/ca/serial.js';
import { normaliseSerial, randomSerial } from '../../src/index.js';

describe('randomSerial', () => {
  it('gives 128 random bits as canonical, positive, unique hex', () => {
    const serials = Array.from({ length: 2000 }, () => randomSerial());
    expect(new Set(serials).size).toBe(serials.length);
    for (const serial of serials) {
      expect(serial).toMatch(/^[0-9a-f]+$/);
      expect(serial.length % 2).toBe(0);
      expect(serial.length).toBeLessThanOrEqual(32);
      expect(serial.startsWith('00')).toBe(false);
    }
    // about half the draws have the top bit set: the full 128 bits are used, not 127
    expect(serials.some((serial) => serial.length === 32 && Number.parseInt(serial.slice(0, 2), 16) >= 0x80)).toBe(true);
  });

  it('draws again on an all-zero value', () => {
    const draws = [new Uint8Array(16), Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 7 : 0))];
    expect(randomSerial(() => draws.shift() ?? new Uint8Array(16))).toBe('07');
  });

  it('keeps leading non-zero octets and strips zero ones', () => {
    const bytes = Uint8Array.from([0, 0, 0xab, ...new Array(13).fill(1)]);
    expect(randomSerial(() => bytes)).toBe(`ab${'01'.repeat(13)}`);
  });
});

describe('normaliseSerial', () => {
  it.each([
    ['ABCDEF', 'abcdef'],
    ['ab:cd:ef', 'abcdef'],
    ['0xABCDEF', 'abcdef'],
    ['00ABCDEF', 'abcdef'],
    ['0000ff', 'ff'],
    ['abc', '0abc'],
    ['00', '00'],
    [' 0a 1b ', '0a1b'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseSerial(input)).toBe(expected);
  });

  it.each(['', 'xyz', '12-34', '0x'])('refuses %j with DMR_CA_INVALID_REQUEST', (input) => {
    expect(() => normaliseSerial(input)).toThrow(expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST' }));
  });
});

describe('derInteger', () => {
  it.each([
    [0n, '020100'],
    [1n, '020101'],
    [127n, '02017f'],
    [128n, '02020080'],
    [256n, '02020100'],
    [2n ** 64n, '0209010000000000000000'],
  ])('%s encodes minimally as %s and reads back', (value, hex) => {
    const der = derInteger(value);
    expect(Buffer.from(der).toString('hex')).toBe(hex);
    expect(parseDerInteger(der)).toBe(value);
  });

  it('refuses negative values, and reads no non-INTEGER', () => {
    expect(() => derInteger(-1n)).toThrow(RangeError);
    expect(parseDerInteger(Uint8Array.from([0x04, 0x01, 0x01]))).toBeUndefined();
    expect(parseDerInteger(Uint8Array.from([0x02, 0x02, 0x01]))).toBeUndefined();
    expect(parseDerInteger(Uint8Array.from([0x02, 0x01, 0xff]))).toBeUndefined();
  });
});
