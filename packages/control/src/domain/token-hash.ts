// Enrollment tokens are stored only as their SHA-256: a database dump reveals no usable token.

import { createHash } from 'node:crypto';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** SHA-256 of the token's UTF-8 bytes, lowercase hex: what the store keeps and looks tokens up by. */
export function hashEnrollmentToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True for 64 lowercase hex characters (a SHA-256 as this package writes it). */
export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}
