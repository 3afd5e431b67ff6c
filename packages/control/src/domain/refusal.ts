// Expected outcomes of the certificate lifecycle are values, not exceptions (conventions 5): a refusal carries
// the catalogued code, a message for the caller and, when one input field is at fault, its name (the HTTP body's
// `field`). It has the shape of the store's `Refusal` plus `field`, so store refusals pass through unchanged.

import type { DmrErrorCode } from '@dmr/shared/base';

/** An expected refusal: a catalogued code, a message naming what was refused, and the input field at fault. */
export interface CertRefusal<C extends DmrErrorCode = DmrErrorCode> {
  readonly ok: false;
  readonly code: C;
  readonly message: string;
  /** The request field at fault (`csr`, `token`, `reason`, …), when one is. */
  readonly field?: string;
}

/** A value or an expected refusal. */
export type CertOutcome<T, C extends DmrErrorCode = DmrErrorCode> = { readonly ok: true; readonly value: T } | CertRefusal<C>;

/** Builds a {@link CertRefusal}. */
export function certRefusal<C extends DmrErrorCode>(code: C, message: string, field?: string): CertRefusal<C> {
  return field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };
}
