// Enrollment tokens: 256 random bits, base64url, shown once and stored only as their SHA-256 (token-hash.ts). A plain
// hash is enough (no salt, no slow KDF): with 256 bits of entropy there is no dictionary to try. Pure apart from the
// random source, which is a parameter (a port) so tests can fix it.

import { randomBytes } from 'node:crypto';

/** Random bytes in a token: 256 bits, beyond any guessing within its lifetime. */
export const ENROLLMENT_TOKEN_BYTES = 32;

/** Default lifetime of an enrollment token: 1 hour (`DMR_CONTROL_ENROLLMENT_TOKEN_TTL_MS`). */
export const DEFAULT_ENROLLMENT_TOKEN_TTL_MS = 3_600_000;

// 32 bytes are 43 base64url characters without padding
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * A fresh token: {@link ENROLLMENT_TOKEN_BYTES} random bytes as base64url without padding (43 characters).
 *
 * @param random - source of random bytes; default `crypto.randomBytes`.
 */
export function newEnrollmentToken(random: (size: number) => Uint8Array = randomBytes): string {
  return Buffer.from(random(ENROLLMENT_TOKEN_BYTES)).toString('base64url');
}

/** True when `value` has the shape of a token this control plane makes (so a malformed one needs no lookup). */
export function isWellFormedEnrollmentToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/** When a token made at `now` with lifetime `ttlMs` expires. */
export function enrollmentTokenExpiry(now: Date, ttlMs: number): Date {
  return new Date(now.getTime() + ttlMs);
}
