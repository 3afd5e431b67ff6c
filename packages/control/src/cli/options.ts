import { InvalidArgumentError } from '@commander-js/extra-typings';
// the light modules only (no @peculiar/x509): option parsing runs for every command line, --help included
import { parseRevocationReason, type RevocationReason } from '../ca/ca-state.js';
import { CA_PURPOSES, type CaPurpose, KEY_TYPES, type KeyType } from '../ca/vocabulary.js';
import { ADMIN_ROLES, type AdminRole, isAdminRole } from '../domain/roles.js';

/** Parses `a,b, c` into trimmed non-empty items (commander argParser; repeated options accumulate). */
export function parseList(value: string, previous: string[] = []): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return [...previous, ...items];
}

/** Parses a whole number of days ≥ 1. */
export function parseDays(value: string): number {
  const days = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(days) || days < 1) throw new InvalidArgumentError('expected a whole number of days ≥ 1');
  return days;
}

/** Parses a key type name. */
export function parseKeyType(value: string): KeyType {
  const type = KEY_TYPES.find((name) => name === value);
  if (type === undefined) throw new InvalidArgumentError(`expected one of ${KEY_TYPES.join(', ')}`);
  return type;
}

/** Parses an RFC 5280 revocation reason name. */
export function parseReason(value: string): RevocationReason {
  try {
    return parseRevocationReason(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** Parses a CA purpose (`agents` or `broker`). */
export function parsePurpose(value: string): CaPurpose {
  const purpose = CA_PURPOSES.find((name) => name === value);
  if (purpose === undefined) throw new InvalidArgumentError(`expected one of ${CA_PURPOSES.join(', ')}`);
  return purpose;
}

/** Parses an administrator role (`admin`, `operator`, `auditor`). */
export function parseRole(value: string): AdminRole {
  if (!isAdminRole(value)) throw new InvalidArgumentError(`expected one of ${ADMIN_ROLES.join(', ')}`);
  return value;
}
