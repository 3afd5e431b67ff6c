// Which strings a control-plane text column can hold. PostgreSQL refuses NUL (U+0000) in text; a lone UTF-16
// surrogate has no UTF-8 form (drivers would store U+FFFD instead). Both engines refuse both, so a value either
// round-trips exactly or is refused before anything is written.

// a high surrogate not followed by a low one, or a low one not preceded by a high one (String#isWellFormed is ES2024)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `text` can be stored and read back unchanged: no NUL and no lone surrogate. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/**
 * `text` with every NUL and lone surrogate replaced by U+FFFD: for text DMR records but did not choose, such as the
 * subject of a refused client certificate in the change log, where a record with a replacement character is
 * better than no record.
 */
export function toStorableText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}

/**
 * The path (`labels.team`, `groups[2]`, `name`) of the first string in `value` (keys included) that is not
 * {@link isStorableText}, or undefined when all are. Walks plain objects and arrays.
 */
export function findUnstorableText(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return isStorableText(value) ? undefined : path || '(value)';
  if (Array.isArray(value)) return firstDefined(value.map((item, index) => () => findUnstorableText(item, `${path}[${index}]`)));
  if (typeof value !== 'object' || value === null) return undefined;
  return firstDefined(
    Object.entries(value).map(([key, item]) => () => {
      const itemPath = path === '' ? key : `${path}.${key}`;
      return isStorableText(key) ? findUnstorableText(item, itemPath) : itemPath;
    }),
  );
}

function firstDefined(checks: readonly (() => string | undefined)[]): string | undefined {
  for (const check of checks) {
    const found = check();
    if (found !== undefined) return found;
  }
  return undefined;
}
