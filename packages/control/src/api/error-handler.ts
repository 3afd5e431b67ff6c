import { DmrError, type DmrErrorCode, ERROR_CATALOG, isDmrErrorCode, type Logger } from '@dmr/shared';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from './api-error.js';

// fastify's own errors, as the catalog's codes
const FASTIFY_CODES: Readonly<Record<string, DmrErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'DMR_CONTROL_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'DMR_CONTROL_UNSUPPORTED_MEDIA',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'DMR_CONTROL_INVALID_INPUT',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'DMR_CONTROL_INVALID_INPUT',
  FST_ERR_CTP_INVALID_TYPE: 'DMR_CONTROL_UNSUPPORTED_MEDIA',
  FST_ERR_VALIDATION: 'DMR_CONTROL_INVALID_INPUT',
};

/**
 * Every error answer is `{statusCode, code, message, field?}` with a catalog code. A 5xx answer says only
 * "internal error" and the code: the cause (which may name a file, a query or a key) goes to the log, never the caller.
 */
export function registerErrorHandlers(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((error: FastifyError | DmrError, request, reply) => {
    const answer = toAnswer(error);
    if (answer.statusCode >= 500) log.error({ err: error, code: answer.code, url: request.routeOptions.url }, 'admin API request failed');
    return sendError(reply, answer);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, {
      statusCode: 404,
      code: 'DMR_CONTROL_NOT_FOUND',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );
}

/** One error answer. */
export interface ErrorAnswer {
  readonly statusCode: number;
  readonly code: DmrErrorCode;
  readonly message: string;
  readonly field?: string | undefined;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Maps any error to its answer. */
export function toAnswer(error: FastifyError | DmrError): ErrorAnswer {
  if (error instanceof ApiError) return { ...catalogued(error.code, error.message), field: error.field, headers: error.headers };
  if (error instanceof DmrError) return catalogued(error.code, error.httpStatus >= 500 ? 'internal error' : error.message);
  const code = FASTIFY_CODES[error.code ?? ''] ?? (isDmrErrorCode(String(error.code)) ? (error.code as DmrErrorCode) : undefined);
  if (code === undefined) return catalogued('DMR_INTERNAL_ERROR', 'internal error');
  const field = (error as { field?: string }).field;
  return { ...catalogued(code, error.message), ...(field === undefined ? {} : { field }) };
}

function catalogued(code: DmrErrorCode, message: string): ErrorAnswer {
  const statusCode = ERROR_CATALOG[code].httpStatus;
  return { statusCode, code, message: statusCode >= 500 ? 'internal error' : message };
}

/** Sends an error answer (also used by the caller guard). */
export function sendError(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  if (answer.headers) void reply.headers(answer.headers);
  return reply
    .code(answer.statusCode)
    .type('application/json; charset=utf-8')
    .send({
      statusCode: answer.statusCode,
      code: answer.code,
      message: answer.message,
      ...(answer.field === undefined ? {} : { field: answer.field }),
    });
}
