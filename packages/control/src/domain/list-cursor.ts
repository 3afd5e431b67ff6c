// Opaque list cursors: which list made it and the key of the last item served (keyset pagination), as base64url
// JSON. Opaque means callers pass it back unchanged; it carries no secret, so it is not signed.

/** The key of the last item of a page: a text id or an integer (versions, seq). */
export type CursorKey = string | number;

/** A decoded cursor, or why it is not one. */
export type CursorOutcome = { readonly ok: true; readonly key: CursorKey } | { readonly ok: false; readonly problem: string };

const MAX_CURSOR_LENGTH = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Encodes the key of the last item served by the list named `list` (e.g. `agents`). */
export function encodeCursor(list: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ l: list, k: key }), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor that {@link encodeCursor} made for the same `list` and whose key has the expected type.
 * Anything else (another list's cursor, altered text, a non-integer number key) is `{ok: false}`.
 */
export function decodeCursor(list: string, cursor: string, keyType: 'string' | 'integer'): CursorOutcome {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
    return { ok: false, problem: 'not a cursor of this API' };
  }
  const parsed = parseJson(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null) return { ok: false, problem: 'not a cursor of this API' };
  const { l, k } = parsed as { l?: unknown; k?: unknown };
  if (l !== list) return { ok: false, problem: `a cursor of another list than ${list}` };
  const isRightType = keyType === 'string' ? typeof k === 'string' : Number.isSafeInteger(k);
  return isRightType ? { ok: true, key: k as CursorKey } : { ok: false, problem: 'a cursor with a malformed key' };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
