import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { DmrErrorCode } from '../errors.js';
import type { FieldError, Result } from '../result.js';

/** A compiled schema check that returns a value or a refusal listing every failing field. */
export type Validator<T> = (value: unknown) => Result<T>;

interface RawError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly message: string;
  readonly params: Record<string, unknown>;
}

/** Compiles `schema` once; the returned function is what hot paths call. */
export function compileValidator<T>(schema: TSchema, code: DmrErrorCode = 'DMR_VALIDATION_FAILED'): Validator<T> {
  const compiled = Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return { ok: true, value: value as T };
    const errors = toFieldErrors([...compiled.Errors(value)] as unknown as RawError[]);
    return { ok: false, code, errors };
  };
}

/** Turns TypeBox errors into `{path, message}` with dotted paths that name the offending field itself. */
export function toFieldErrors(raw: readonly RawError[]): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const error of raw) {
    // "schema is false" repeats what the additionalProperties entry already says
    if (error.keyword === 'boolean') continue;
    for (const fieldError of explain(error)) {
      const key = `${fieldError.path}|${fieldError.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(fieldError);
      }
    }
  }
  return errors;
}

function explain(error: RawError): FieldError[] {
  const base = pointerToPath(error.instancePath);
  if (error.keyword === 'required' && Array.isArray(error.params.requiredProperties)) {
    return error.params.requiredProperties.map((name) => ({ path: join(base, String(name)), message: 'is required' }));
  }
  if (error.keyword === 'additionalProperties' && Array.isArray(error.params.additionalProperties)) {
    return error.params.additionalProperties.map((name) => ({ path: join(base, String(name)), message: 'is not allowed' }));
  }
  if (error.keyword === 'format' && error.params.format === 'uuid') {
    return [{ path: base, message: 'must be a UUID (8-4-4-4-12 hex digits, e.g. 550e8400-e29b-41d4-a716-446655440000)' }];
  }
  return [{ path: base, message: error.message }];
}

function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function join(base: string, name: string): string {
  return base ? `${base}.${name}` : name;
}
