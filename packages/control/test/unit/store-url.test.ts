import { describe, expect, it } from 'vitest';
import { clampLimit } from '../../src/store/paging.js';
import { parseStoreUrl, redactStoreUrl } from '../../src/store/store-url.js';

describe('parseStoreUrl', () => {
  it('takes everything after sqlite: as the file path', () => {
    expect(parseStoreUrl('sqlite:./dmr-control.db')).toEqual({ ok: true, location: { engine: 'sqlite', path: './dmr-control.db' } });
    expect(parseStoreUrl('sqlite:/var/lib/dmr/control db.sqlite')).toEqual({
      ok: true,
      location: { engine: 'sqlite', path: '/var/lib/dmr/control db.sqlite' },
    });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ ok: true, location: { engine: 'sqlite', path: ':memory:' } });
  });

  it('hands postgres:// and postgresql:// URLs to pg as they are', () => {
    const url = 'postgresql://dmr:s3cret@db.internal:5433/control?sslmode=verify-full';
    expect(parseStoreUrl(url)).toEqual({ ok: true, location: { engine: 'postgres', connectionString: url } });
    expect(parseStoreUrl('postgres://localhost/control')).toMatchObject({ ok: true, location: { engine: 'postgres' } });
  });

  it('refuses an empty SQLite path, other schemes and broken URLs, naming the variable and never the password', () => {
    expect(parseStoreUrl('sqlite:')).toMatchObject({ ok: false, problem: expect.stringContaining('DMR_CONTROL_DATABASE_URL') });
    const mysql = parseStoreUrl('mysql://root:hunter2@db/control');
    expect(mysql).toMatchObject({ ok: false, problem: expect.stringContaining('mysql:') });
    expect(JSON.stringify(mysql)).not.toContain('hunter2');
    expect(parseStoreUrl('./dmr-control.db')).toMatchObject({ ok: false, problem: expect.stringContaining('(none)') });
    expect(parseStoreUrl('postgres://[broken')).toMatchObject({ ok: false });
  });
});

describe('redactStoreUrl', () => {
  it('hides the password of a PostgreSQL URL and leaves the rest', () => {
    expect(redactStoreUrl('postgres://dmr:s3cret@db:5432/control')).toBe('postgres://dmr:***@db:5432/control');
    expect(redactStoreUrl('postgres://db/control')).toBe('postgres://db/control');
    expect(redactStoreUrl('sqlite:./a:b@c.db')).toBe('sqlite:./a:b@c.db');
  });
});

describe('clampLimit', () => {
  it('defaults to 100 and keeps 1…1000, rounding down', () => {
    expect([undefined, Number.NaN, 0, -5, 1, 2.9, 1000, 1001, Number.POSITIVE_INFINITY].map(clampLimit)).toEqual([
      100, 100, 1, 1, 1, 2, 1000, 1000, 100,
    ]);
  });
});
