import { randomBytes } from 'node:crypto';
import { normaliseSerial } from '@dmr/shared/base';

// canonical serials and DER integers are read the same way by the server: the one implementation lives in @dmr/shared
export { normaliseSerial, parseDerInteger } from '@dmr/shared/base';

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
