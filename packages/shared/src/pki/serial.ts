import { DmrError } from '../errors.js';

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

/** Reads a DER INTEGER (tag, short length, non-negative content) to a bigint; undefined when `der` is not one. */
export function parseDerInteger(der: Uint8Array): bigint | undefined {
  const length = der[1] ?? 0;
  if (der[0] !== 0x02 || length === 0 || length > 0x7f || der.length !== length + 2) return undefined;
  const content = Buffer.from(der.subarray(2));
  if (((content[0] ?? 0) & 0x80) !== 0) return undefined;
  return BigInt(`0x${content.toString('hex')}`);
}
