/**
 * Delivery-ack error vocabulary shared by DMR and seed 003's system (issue 16). Pure.
 *
 * Seed 003's server knows two error types in an agent's ack: `DECRYPTION_FAILED`, which it dead-letters, and
 * `DELIVERY_FAILED`, which it retries (up to its limit, then dead-letters); anything else it acks away, so the message
 * is lost. A DMR agent therefore always answers with one of those two types, chosen by whether the DMR code is
 * transient, and carries the DMR code beside it for a DMR server to read first.
 */

import { type DmrErrorCode, isDmrErrorCode, isTransientCode } from './errors.js';
import type { DeliveryAckError } from './protocol.js';

/** The error types seed 003's server understands, by what it does with them. */
export const SEED003_ERROR_TYPES = { permanent: 'DECRYPTION_FAILED', transient: 'DELIVERY_FAILED' } as const;

/**
 * What a DMR server makes of seed 003's two types: a DECRYPTION_FAILED is final (the same bytes cannot decrypt
 * later), a DELIVERY_FAILED is the endpoint failing and may clear.
 */
const SEED003_TYPE_CODES: Readonly<Record<string, DmrErrorCode>> = {
  [SEED003_ERROR_TYPES.permanent]: 'DMR_CRYPTO_DECRYPT_FAILED',
  [SEED003_ERROR_TYPES.transient]: 'DMR_DELIVERY_ENDPOINT_FAILED',
};

/** The ack error a DMR agent sends for `code`: seed 003's type by transience, the DMR code, and the reason. */
export function deliveryErrorOf(code: DmrErrorCode, message: string): DeliveryAckError {
  const type = isTransientCode(code) ? SEED003_ERROR_TYPES.transient : SEED003_ERROR_TYPES.permanent;
  return { type, message, code };
}

/**
 * The DMR code a DMR server acts on for one ack error: the entry's `code` when it is a catalog code (DMR agents since
 * issue 16), else its `type` when that is one (older DMR agents), else the code seed 003's type stands for, else
 * DMR_DELIVERY_UNKNOWN_ERROR (transient: retried up to the delivery limit, never dropped).
 */
export function codeOfAckError(entry: { readonly type: string; readonly code?: string }): DmrErrorCode {
  if (isDmrErrorCode(entry.code)) return entry.code;
  if (isDmrErrorCode(entry.type)) return entry.type;
  return SEED003_TYPE_CODES[entry.type] ?? 'DMR_DELIVERY_UNKNOWN_ERROR';
}

/** The agent's own word for one ack error, for the reason line: its DMR code if it sent one, else its type. */
export function labelOfAckError(entry: { readonly type: string; readonly code?: string }): string {
  return isDmrErrorCode(entry.code) ? entry.code : entry.type;
}
