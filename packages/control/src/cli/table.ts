// Plain-text tables and field lists for dmrctl's `--output table` (pure). The API's strings reach a terminal here, so
// control characters are neutralised: a crafted agent name cannot move the cursor or rewrite the screen.

/** One column: its header and how a row shows in it. */
export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Longest cell before it is cut with `…` (default 60; the last column is never cut). */
  readonly maxWidth?: number;
}

const DEFAULT_MAX_WIDTH = 60;

/**
 * Renders `rows` as a left-aligned table with upper-case headers, columns two spaces apart and no trailing blanks.
 * No rows: the header and a `(none)` line.
 */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) =>
    columns.map((column, index) => {
      const text = printable(column.value(row));
      return index === columns.length - 1 ? text : cut(text, column.maxWidth ?? DEFAULT_MAX_WIDTH);
    }),
  );
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, index) => Math.max(header.length, ...cells.map((line) => (line[index] ?? '').length)));
  const format = (line: readonly string[]) =>
    line
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  const lines = [format(headers), ...cells.map(format)];
  if (rows.length === 0) lines.push('(none)');
  return `${lines.join('\n')}\n`;
}

/** `label  value` lines, labels padded to one width; multi-line values are indented under their label. */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return fields
    .map(([label, value]) => {
      const [first = '', ...rest] = printable(value, true).split('\n');
      const indent = ' '.repeat(width + 2);
      return [`${label.padEnd(width)}  ${first}`.trimEnd(), ...rest.map((line) => `${indent}${line}`.trimEnd())].join('\n');
    })
    .join('\n')
    .concat('\n');
}

/**
 * Replaces C0/C1 control characters (ESC included) and other invisible format characters with `?`. Newlines become
 * `↵` unless `keepNewlines` (field values that are PEM text).
 */
export function printable(text: string, keepNewlines = false): string {
  const withoutNewlines = keepNewlines ? text.replace(/\r\n/g, '\n') : text.replace(/\r?\n/g, '↵');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return withoutNewlines.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

function cut(text: string, maxWidth: number): string {
  return text.length > maxWidth ? `${text.slice(0, Math.max(1, maxWidth - 1))}…` : text;
}

/** A value of an API record as table text: strings as they are, lists joined, objects as `k=v`, absent as `-`. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cellText).join(',');
  const entries = Object.entries(value as Record<string, unknown>);
  return entries.length === 0 ? '-' : entries.map(([key, inner]) => `${key}=${cellText(inner)}`).join(',');
}

/** How long ago `iso` was, relative to `now`: `12s ago`, `5m ago`, `3h ago`, `2d ago` (future: `in 5m`). `-` if unreadable. */
export function ageText(iso: unknown, now: Date): string {
  const at = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(at)) return '-';
  const seconds = Math.round((now.getTime() - at) / 1000);
  const span = durationText(Math.abs(seconds));
  return seconds >= 0 ? `${span} ago` : `in ${span}`;
}

/** A duration in seconds as its largest unit: `45s`, `12m`, `5h`, `30d`. */
export function durationText(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
