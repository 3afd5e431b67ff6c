// Keyset pagination shared by every list: clamp the limit, decode the cursor, cut the page.

import { type CursorKey, decodeCursor, encodeCursor } from '../domain/index.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type PageOutcome, type PageQuery } from './queries.js';

/** A decoded page request: how many items to serve and after which key (undefined: from the start). */
export interface PageWindow {
  readonly limit: number;
  readonly after: CursorKey | undefined;
}

/** Limit in 1…{@link MAX_PAGE_LIMIT}; default {@link DEFAULT_PAGE_LIMIT}; fractions round down. */
export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_LIMIT;
  return Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(limit)));
}

/** Decodes the page request of the list `list`, or the problem with a cursor it did not make. */
export function pageWindow(
  list: string,
  query: PageQuery,
  keyType: 'string' | 'integer',
): { readonly ok: true; readonly window: PageWindow } | { readonly ok: false; readonly problem: string } {
  const limit = clampLimit(query.limit);
  if (query.cursor === undefined) return { ok: true, window: { limit, after: undefined } };
  const decoded = decodeCursor(list, query.cursor, keyType);
  return decoded.ok ? { ok: true, window: { limit, after: decoded.key } } : decoded;
}

/** Splits rows read with `limit + 1` into the page's rows and whether a next page exists. */
export function cutRows<R>(rows: readonly R[], limit: number): { readonly rows: readonly R[]; readonly hasMore: boolean } {
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}

/** The page of `items`, with the cursor after its last item when `hasMore`. */
export function pageOf<T>(list: string, items: readonly T[], hasMore: boolean, keyOf: (item: T) => CursorKey): PageOutcome<T> {
  const last = items.at(-1);
  const nextCursor = hasMore && last !== undefined ? encodeCursor(list, keyOf(last)) : null;
  return { ok: true, value: { items, nextCursor } };
}

/** The refusal of a cursor this list did not make. */
export function invalidCursor(problem: string): PageOutcome<never> {
  return { ok: false, code: 'DMR_CONTROL_CURSOR_INVALID', message: `cursor: ${problem}` };
}
