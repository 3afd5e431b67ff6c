import { describe, expect, it } from 'vitest';
import { validityFor } from '../../src/ca/issue.js';
import { CLOCK_SKEW_MS } from '../../src/index.js';

const now = new Date('2025-06-01T12:00:00Z');

describe('validityFor', () => {
  it('backdates notBefore by the clock-skew allowance and counts days from now', () => {
    const validity = validityFor(397, now);
    expect(validity.notBefore.getTime()).toBe(now.getTime() - CLOCK_SKEW_MS);
    expect(validity.notAfter.toISOString()).toBe('2026-07-03T12:00:00.000Z');
  });

  it('takes an explicit window, even one in the past', () => {
    const window = { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') };
    expect(validityFor(397, now, window)).toBe(window);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s days', (days) => {
    expect(() => validityFor(days, now)).toThrow(expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST' }));
  });

  it('refuses an empty window', () => {
    expect(() => validityFor(1, now, { notBefore: now, notAfter: now })).toThrow(
      expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST' }),
    );
  });
});
