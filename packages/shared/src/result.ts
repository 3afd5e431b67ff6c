import type { DmrErrorCode } from './errors.js';

/** One reason a value was refused, with a JSON-pointer-like dotted path (`payload.messages.0.content`). */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** A refusal as a value: expected outcomes are not exceptions. */
export interface Refusal {
  readonly ok: false;
  readonly code: DmrErrorCode;
  readonly errors: readonly FieldError[];
}

/** Either the accepted value or a refusal. */
export type Result<T> = { readonly ok: true; readonly value: T } | Refusal;

/** Builds a refusal with one reason. */
export function refuse(code: DmrErrorCode, path: string, message: string): Refusal {
  return { ok: false, code, errors: [{ path, message }] };
}

/** Builds an accepted result. */
export function accept<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** Joins refusal reasons into one line for logs and error bodies. */
export function describeErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
}
