import { DmrError, type DmrErrorCode } from '@dmr/shared/base';
import type { FieldRefusal } from '../domain/index.js';

/**
 * A refusal on its way to the HTTP answer `{statusCode, code, message, field?}`: a {@link DmrError} that may name the
 * field at fault. Thrown inside a store transaction it also rolls the transaction back, so nothing is half-written.
 */
export class ApiError extends DmrError {
  /** Dotted path of the field at fault (`agents.998.id`), when one is. */
  readonly field: string | undefined;
  /** Extra response headers (e.g. the current `ETag` of a 412). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: DmrErrorCode, message: string, options: { field?: string; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.field = options.field;
    this.headers = options.headers ?? {};
  }

  /** The error of a domain refusal of one field. */
  static ofField(refusal: FieldRefusal): ApiError {
    return new ApiError(refusal.code, refusal.message, { field: refusal.field });
  }
}

/** The value of a checked outcome, or throws the {@link ApiError} of its refusal. */
export function valueOrThrow<T>(checked: { readonly ok: true; readonly value: T } | FieldRefusal): T {
  if (!checked.ok) throw ApiError.ofField(checked);
  return checked.value;
}

/** The value of a store outcome, or throws its refusal (`DMR_CONTROL_NOT_FOUND`, `…_ALREADY_EXISTS`, …) as an {@link ApiError}. */
export function storeValueOrThrow<T>(
  outcome: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: DmrErrorCode; readonly message: string },
  field?: string,
): T {
  if (!outcome.ok) throw new ApiError(outcome.code, outcome.message, field === undefined ? {} : { field });
  return outcome.value;
}
