// The store URL (DMR_CONTROL_DATABASE_URL): `sqlite:<path>` or `postgres://…`. Pure parsing; no I/O.

import { CONTROL_DATABASE_URL_ENV } from './open-options.js';

/** Where a store lives: a SQLite file (or `:memory:`) or a PostgreSQL connection string. */
export type StoreLocation =
  | { readonly engine: 'sqlite'; readonly path: string }
  | { readonly engine: 'postgres'; readonly connectionString: string };

/** A parsed URL, or the problem with it (never echoing a password). */
export type StoreUrlOutcome = { readonly ok: true; readonly location: StoreLocation } | { readonly ok: false; readonly problem: string };

/**
 * Parses a store URL. `sqlite:<path>`: the rest of the string is the file path as given (relative to the
 * working directory; `sqlite::memory:` for a private in-memory database). `postgres://` or `postgresql://`:
 * a libpq-style connection URL, handed to `pg` as its connection string (user, password, host, port, database,
 * `?sslmode=` …).
 */
export function parseStoreUrl(url: string): StoreUrlOutcome {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') return { ok: false, problem: `${CONTROL_DATABASE_URL_ENV} names no SQLite file (sqlite:<path>)` };
    return { ok: true, location: { engine: 'sqlite', path } };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    if (!URL.canParse(url)) return { ok: false, problem: `${CONTROL_DATABASE_URL_ENV} is not a valid postgres:// URL` };
    return { ok: true, location: { engine: 'postgres', connectionString: url } };
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? '(none)';
  return {
    ok: false,
    problem: `${CONTROL_DATABASE_URL_ENV} must start with sqlite: or postgres:// (scheme given: ${scheme})`,
  };
}

/** The URL with any password replaced by `***`, for logs and error messages. */
export function redactStoreUrl(url: string): string {
  if (!URL.canParse(url) || url.startsWith('sqlite:')) return url;
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
