import { randomBytes } from 'node:crypto';
import { DmrError } from '@dmr/shared';

/** Bytes of randomness in a certificate serial: 128 bits, well above the CA/Browser Forum's 64-bit floor. */
export const SERIAL_RANDOM_BYTES = 16;

/**
 * A fresh random, positive, non-zero serial number as canonical hex (see {@link normaliseSerial}).
 * All 128 bits are random; DER adds a leading zero octet when the top bit is set, which stays within RFC 5280's 20 octets.
 *
 * @param random - source of random bytes (a port for tests); defaults to `crypto.randomBytes`.
 */
export function randomSerial(random: (size: number) => Uint8Array = randomBytes): string {
  for (;;) {
    const bytes = random(SERIAL_RANDOM_BYTES);
    const hex = normaliseSerial(Buffer.from(bytes).toString('hex'));
    // an all-zero draw (p = 2^-128) is not a valid serial; draw again
    if (hex !== '00') return hex;
  }
}

/**
 * The canonical form of a serial number in hex: lowercase, even length, no `0x`, colons or
 * spaces, and no leading zero octets. Node's `X509Certificate.serialNumber` (uppercase),
 * OpenSSL's `AB:CD` form and @peculiar/x509's form all map to the same string.
 * Throws DMR_CA_INVALID_REQUEST for anything that is not hex.
 */
export function normaliseSerial(serial: string): string {
  let hex = serial.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]+$/.test(hex)) throw new DmrError('DMR_CA_INVALID_REQUEST', `serial "${serial}" is not a hexadecimal number`);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}

/**
 * The DER encoding of a non-negative INTEGER (tag, length, minimal two's-complement content),
 * as the CRL number extension needs. Values up to 2^159 keep the short length form.
 */
export function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('derInteger takes a non-negative value');
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const content = Buffer.from(hex, 'hex');
  const body = (content[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), content]) : content;
  if (body.length > 0x7f) throw new RangeError('derInteger value too large');
  return Uint8Array.from([0x02, body.length, ...body]);
}

/** Reads a DER INTEGER (as {@link derInteger} writes) back to a bigint; undefined when `der` is not one. */
export function parseDerInteger(der: Uint8Array): bigint | undefined {
  const length = der[1] ?? 0;
  if (der[0] !== 0x02 || length === 0 || length > 0x7f || der.length !== length + 2) return undefined;
  const content = Buffer.from(der.subarray(2));
  if (((content[0] ?? 0) & 0x80) !== 0) return undefined;
  return BigInt(`0x${content.toString('hex')}`);
}
