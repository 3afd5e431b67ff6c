// Foreign errors are translated once, here: a driver's error becomes DMR_CONTROL_STORE_FAILED with the original as
// cause; DmrErrors pass unchanged.

import { DmrError } from '@dmr/shared/base';

const RETRIABLE_SQLSTATES = new Set(['40001', '40P01']);

/** The error to throw for a failed database step `what`. */
export function toStoreError(error: unknown, what: string): DmrError {
  if (error instanceof DmrError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DmrError('DMR_CONTROL_STORE_FAILED', `${what}: ${detail}`, { cause: error });
}

/** True when PostgreSQL aborted the transaction as a deadlock or serialization failure: running it again may succeed. */
export function isRetriable(error: unknown): boolean {
  const root = error instanceof DmrError ? error.cause : error;
  const code = (root as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && RETRIABLE_SQLSTATES.has(code);
}

/**
 * Wraps every method of `repo` so that what it throws is translated by {@link toStoreError}: the store's callers
 * only ever see DmrErrors.
 */
export function guarded<T extends object>(repo: T, what: string): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(repo)) {
    wrapped[name] = typeof member === 'function' ? translating(member as (...args: unknown[]) => unknown, `${what}.${name}`) : member;
  }
  return wrapped as T;
}

// Keeps a synchronous method synchronous (change-log append returns void) and an async one async.
function translating(method: (...args: unknown[]) => unknown, what: string): (...args: unknown[]) => unknown {
  return (...args) => {
    try {
      const result = method(...args);
      return result instanceof Promise
        ? result.catch((error: unknown) => {
            throw toStoreError(error, what);
          })
        : result;
    } catch (error) {
      throw toStoreError(error, what);
    }
  };
}
