// Serial numbers as the CRL check compares them, and the DER INTEGER of a CRL number: the edge cases of each.
import { normaliseSerial, parseDerInteger } from '@dmr/shared/pki';
import { describe, expect, it } from 'vitest';

describe('normaliseSerial', () => {
  it('trims before it strips a leading 0x, and strips 0x only at the start', () => {
    expect(normaliseSerial(' 0x0A ')).toBe('0a');
    expect(() => normaliseSerial('a0x1')).toThrow('serial "a0x1" is not a hexadecimal number');
  });

  it('pads an odd length to whole octets and drops leading zero octets, keeping one', () => {
    expect(normaliseSerial('abc')).toBe('0abc');
    expect(normaliseSerial('0000ff')).toBe('ff');
    expect(normaliseSerial('000')).toBe('00');
    expect(normaliseSerial('00')).toBe('00');
  });

  it('names the serial it refuses, with DMR_CA_INVALID_REQUEST', () => {
    expect(() => normaliseSerial('12-34')).toThrow(
      expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST', message: 'serial "12-34" is not a hexadecimal number' }),
    );
  });
});

describe('parseDerInteger', () => {
  it('reads the longest short-form length, 127 content bytes', () => {
    const der = Uint8Array.from([0x02, 0x7f, 0x01, ...new Array(126).fill(0)]);
    expect(parseDerInteger(der)).toBe(1n << (126n * 8n));
  });

  it('refuses another tag, an empty or long-form length, a length that does not match, and a negative value', () => {
    expect(parseDerInteger(Uint8Array.from([0x04, 1, 5]))).toBeUndefined();
    expect(parseDerInteger(Uint8Array.from([0x02, 0]))).toBeUndefined();
    expect(parseDerInteger(Uint8Array.from([0x02, 0x81, 1, 5]))).toBeUndefined();
    // a long-form length byte is refused even when the bytes that follow happen to number as many
    expect(parseDerInteger(Uint8Array.from([0x02, 0x80, 0x01, ...new Array(127).fill(0)]))).toBeUndefined();
    expect(parseDerInteger(Uint8Array.from([0x02, 2, 5]))).toBeUndefined();
    expect(parseDerInteger(Uint8Array.from([0x02, 1, 5, 6]))).toBeUndefined();
    expect(parseDerInteger(Uint8Array.from([0x02, 1, 0x80]))).toBeUndefined();
    expect(parseDerInteger(Uint8Array.from([0x02, 2, 0x00, 0x80]))).toBe(128n);
    expect(parseDerInteger(new Uint8Array(0))).toBeUndefined();
  });
});
