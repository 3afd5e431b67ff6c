import { type DmrErrorCode, ERROR_CATALOG, type FieldError } from '@dmr/shared';

/**
 * Every error response of the agent API: `{statusCode, code, message, errors?}` (+ `reason`, `serverCode` for
 * DMR_LINK_REJECTED and the server's retry-later codes, `limitBytes` for DMR_VALIDATION_TOO_LARGE).
 */
export interface ErrorBody {
  readonly statusCode: number;
  readonly code: DmrErrorCode;
  readonly message: string;
  readonly errors?: readonly FieldError[];
  readonly reason?: string;
  readonly serverCode?: string;
  /** The body limit in force (`DMR_MAX_MESSAGE_BYTES`), bytes. */
  readonly limitBytes?: number;
}

/** Builds the error body of `code`; the HTTP status comes from the catalog so routes cannot drift from it. */
export function errorBody(
  code: DmrErrorCode,
  message: string,
  extra: Partial<Pick<ErrorBody, 'errors' | 'reason' | 'serverCode' | 'limitBytes'>> = {},
): ErrorBody {
  const body: ErrorBody = { statusCode: ERROR_CATALOG[code].httpStatus, code, message };
  // Absent members stay absent rather than `undefined`, so clients see a stable shape.
  return Object.fromEntries(Object.entries({ ...body, ...extra }).filter(([, value]) => value !== undefined)) as unknown as ErrorBody;
}

/** Fastify errors raised before our handler runs (body parsing), translated once here. */
export function translateFastifyError(error: { code?: string; statusCode?: number; message: string }, maxMessageBytes: number): ErrorBody {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return errorBody('DMR_VALIDATION_TOO_LARGE', `the message exceeds the limit of ${maxMessageBytes} bytes (DMR_MAX_MESSAGE_BYTES)`, {
      limitBytes: maxMessageBytes,
    });
  }
  const status = error.statusCode ?? 500;
  // Every other 4xx raised while reading the body (invalid or empty JSON, bad content length, media type) is a bad request.
  if (status >= 400 && status < 500) {
    return errorBody('DMR_VALIDATION_FAILED', `body is not valid JSON: ${error.message}`, {
      errors: [{ path: '', message: error.message }],
    });
  }
  return errorBody('DMR_INTERNAL_ERROR', 'internal error');
}
