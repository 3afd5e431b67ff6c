// How schema failures become the `{path, message}` list a refusal carries: dotted paths that name the offending
// field itself, one entry per field and message, and the refusal code a caller chose.
import { compileValidator, toFieldErrors } from '@dmr/shared';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';

const raw = (keyword: string, instancePath: string, message: string, params: Record<string, unknown> = {}) => ({
  keyword,
  instancePath,
  message,
  params,
});

describe('toFieldErrors', () => {
  it('names each missing property by its own path, at the top level and nested', () => {
    const errors = toFieldErrors([
      raw('required', '', 'must have required properties a, b', { requiredProperties: ['a', 'b'] }),
      raw('required', '/payload/chat', 'must have required property id', { requiredProperties: ['id'] }),
    ]);
    expect(errors).toEqual([
      { path: 'a', message: 'is required' },
      { path: 'b', message: 'is required' },
      { path: 'payload.chat.id', message: 'is required' },
    ]);
  });

  it('names each property that is not allowed by its own path', () => {
    const errors = toFieldErrors([
      raw('additionalProperties', '/payload', 'must not have additional properties', { additionalProperties: ['x', 'y'] }),
    ]);
    expect(errors).toEqual([
      { path: 'payload.x', message: 'is not allowed' },
      { path: 'payload.y', message: 'is not allowed' },
    ]);
  });

  it("keeps the schema's own message when a keyword carries no property list, or is another keyword", () => {
    const errors = toFieldErrors([
      raw('required', '/a', 'must have required properties'),
      raw('additionalProperties', '/b', 'must not have additional properties', { additionalProperties: 'x' }),
      raw('format', '/timestamp', 'must match format "date-time"'),
    ]);
    expect(errors).toEqual([
      { path: 'a', message: 'must have required properties' },
      { path: 'b', message: 'must not have additional properties' },
      { path: 'timestamp', message: 'must match format "date-time"' },
    ]);
  });

  it('drops "schema is false", which repeats the additionalProperties entry', () => {
    expect(toFieldErrors([raw('boolean', '/x', 'schema is false')])).toEqual([]);
  });

  it('decodes JSON-pointer escapes (~1 is "/", ~0 is "~") into the path', () => {
    expect(toFieldErrors([raw('type', '/a~1b/c~0d/~01', 'must be string')])).toEqual([{ path: 'a/b.c~d.~1', message: 'must be string' }]);
  });

  it('lists a field and message once, but keeps different messages of one field', () => {
    const errors = toFieldErrors([
      raw('type', '/n', 'must be number'),
      raw('type', '/n', 'must be number'),
      raw('minimum', '/n', 'must be >= 1'),
      raw('type', '/m', 'must be number'),
    ]);
    expect(errors).toEqual([
      { path: 'n', message: 'must be number' },
      { path: 'n', message: 'must be >= 1' },
      { path: 'm', message: 'must be number' },
    ]);
  });
});

describe('compileValidator', () => {
  const schema = Type.Object({ n: Type.Number() }, { additionalProperties: false });

  it('returns the value when it matches, and DMR_VALIDATION_FAILED with every failing field when not', () => {
    const validate = compileValidator<{ n: number }>(schema);
    const value = { n: 1 };
    expect(validate(value)).toEqual({ ok: true, value });
    expect(validate({ extra: true })).toEqual({
      ok: false,
      code: 'DMR_VALIDATION_FAILED',
      errors: expect.arrayContaining([
        { path: 'n', message: 'is required' },
        { path: 'extra', message: 'is not allowed' },
      ]),
    });
  });

  it("refuses with the caller's code", () => {
    const validate = compileValidator(schema, 'DMR_REGISTRY_INVALID');
    expect(validate({ n: 'one' })).toMatchObject({ ok: false, code: 'DMR_REGISTRY_INVALID' });
  });
});
