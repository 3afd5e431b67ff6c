import { readFileSync } from 'node:fs';
import { ERROR_CATALOG } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
// a code is documented by a table row that starts with it
const documented = new Set([...docs.matchAll(/^\|\s*`(DMR_[A-Z_]+)`\s*\|/gm)].map((match) => match[1]));

describe('error catalog', () => {
  it('documents every code in docs/errors.md', () => {
    const missing = Object.keys(ERROR_CATALOG).filter((code) => !documented.has(code));
    expect(missing).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    const unknown = [...documented].filter((code) => code !== undefined && !Object.hasOwn(ERROR_CATALOG, code));
    expect(unknown).toEqual([]);
  });

  it('uses the DMR_<AREA>_<WHAT> form and a 4xx/5xx status', () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
      expect(code).toMatch(/^DMR_[A-Z]+_[A-Z_]+$/);
      expect(spec.httpStatus).toBeGreaterThanOrEqual(400);
      expect(spec.httpStatus).toBeLessThan(600);
    }
  });
});
