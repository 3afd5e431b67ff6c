import { DELIVERY_EXPIRES_IN_FIELD } from '@dmr/shared';

/** A delivery split into the wire message and the remaining TTL the server announced for it. */
export interface SplitDelivery {
  /** The message without the deadline field, for the wire schema (which allows no extra fields). */
  readonly message: unknown;
  /** Remaining TTL at emit, ms; undefined when the server sent none (a server without deadlines) or a bad value. */
  readonly expiresInMs?: number;
}

/**
 * Takes the server's deadline field (issue 15, finding 17) off a delivery. A value that is not a finite number ≥ 0
 * is dropped and the delivery treated as having no deadline, as from a server that sends none.
 */
export function splitDeadline(message: unknown): SplitDelivery {
  if (typeof message !== 'object' || message === null || !Object.hasOwn(message, DELIVERY_EXPIRES_IN_FIELD)) return { message };
  const { [DELIVERY_EXPIRES_IN_FIELD]: value, ...rest } = message as Record<string, unknown>;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? { message: rest, expiresInMs: value } : { message: rest };
}
