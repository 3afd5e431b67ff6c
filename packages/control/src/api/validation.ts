import { toFieldErrors } from '@dmr/shared';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { findTextProblem } from '../domain/index.js';
import { ApiError } from './api-error.js';

/** The result fastify expects of a validator: the (converted) value, or the error to answer. */
export type ValidationResult = { readonly value: unknown } | { readonly error: ApiError };

/**
 * fastify's validator compiler for the admin API: TypeBox's compiled check, nothing removed or coerced in bodies
 * (an unknown member is refused, never dropped), query and path strings converted to the schema's numbers and
 * booleans. Every string that passes the schema is then checked for what no JSON Schema says: NUL, lone surrogates,
 * U+FFFD, control characters (but tab and line breaks in bodies, where PEM and comments live), bidirectional
 * overrides. The first problem is `DMR_CONTROL_INVALID_INPUT` naming its field (`agents.998.name`, `limit`).
 */
export function compileValidator(schema: TSchema, httpPart: string | undefined): (data: unknown) => ValidationResult {
  const check = Compile(schema);
  const isTextPart = httpPart === 'querystring' || httpPart === 'params';
  return (data) => {
    const value = isTextPart ? Value.Convert(schema, data ?? {}) : data;
    if (!check.Check(value)) {
      const [first] = toFieldErrors([...check.Errors(value)] as unknown as Parameters<typeof toFieldErrors>[0]);
      const field = first?.path || (httpPart === 'body' ? 'body' : String(httpPart));
      const message = first ? `${field} ${first.message}` : `${field} does not match the schema`;
      return { error: new ApiError('DMR_CONTROL_INVALID_INPUT', message, { field }) };
    }
    const problem = findTextProblem(value, '', { isMultiline: !isTextPart, maxLength: Number.MAX_SAFE_INTEGER });
    if (problem) return { error: new ApiError('DMR_CONTROL_INVALID_INPUT', problem.message, { field: problem.field || 'body' }) };
    return { value };
  };
}
