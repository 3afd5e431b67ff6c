// A refusal from dmr-control's admin API, kept as the API said it.
import { DmrError } from '@dmr/shared/base';

/**
 * An error answer of the admin API (`{statusCode, code, message, field?}`). Not a DmrError: the code comes from the
 * server, which may be newer than this dmrctl and use a code its catalog does not have yet; it is printed as it came.
 */
export class ControlApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(statusCode: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ControlApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.field = field;
  }
}

/** The code dmr-control answers when an `If-Match` revision is no longer the record's current one. */
export const REVISION_MISMATCH_CODE = 'DMR_CONTROL_REVISION_MISMATCH';

/** True when `error` says someone changed the record since it was read (412, or the revision-mismatch code). */
export function isRevisionConflict(error: unknown): boolean {
  return error instanceof ControlApiError && (error.statusCode === 412 || error.code === REVISION_MISMATCH_CODE);
}

/**
 * Turns a non-2xx answer into the error to throw: a {@link ControlApiError} when the body is the API's error shape,
 * else `DMR_CLI_API_RESPONSE_INVALID` quoting the start of the body (a proxy's error page, for example).
 */
export function errorFromResponse(statusCode: number, body: string): Error {
  const parsed = parseJson(body);
  if (isErrorBody(parsed)) {
    return new ControlApiError(statusCode, parsed.code, parsed.message, typeof parsed.field === 'string' ? parsed.field : undefined);
  }
  return new DmrError('DMR_CLI_API_RESPONSE_INVALID', `HTTP ${statusCode} without an error code: ${excerpt(body)}`);
}

/** One line (or two, with the field) saying what the API refused: `DMR_X: message (HTTP 403)`. */
export function formatApiError(error: ControlApiError): string {
  const field = error.field === undefined ? '' : `\n  field: ${error.field}`;
  return `${error.code}: ${error.message} (HTTP ${error.statusCode})${field}`;
}

function isErrorBody(value: unknown): value is { code: string; message: string; field?: unknown } {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return typeof body.code === 'string' && body.code !== '' && typeof body.message === 'string';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The first 200 characters of a body, on one line. */
export function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  if (line === '') return '(empty body)';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
