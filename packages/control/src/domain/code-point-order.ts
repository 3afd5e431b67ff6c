// Text order by Unicode code point: what SQLite's BINARY and PostgreSQL's "C" collation give on UTF-8 text, and
// what the store's keyset pagination follows. (JavaScript's default sort compares UTF-16 code units, which puts
// U+E000–U+FFFF after the astral planes.)

/** Negative, zero or positive as `a` sorts before, with or after `b` by code point. */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}
