import { RandomPool } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

describe('RandomPool', () => {
  it('hands out every byte once, across refills of its block', () => {
    const pool = new RandomPool();
    // 44 bytes (a content key and an IV) 500 times: about five blocks of 4096 bytes
    const taken = Array.from({ length: 500 }, () => pool.take(44));
    expect(taken.every((bytes) => bytes.length === 44)).toBe(true);
    expect(new Set(taken.map((bytes) => bytes.toString('hex'))).size).toBe(500);
    const blocks = new Set(taken.map((bytes) => bytes.buffer));
    expect(blocks.size).toBeGreaterThanOrEqual(5);
    // views of one block never overlap
    const byBlock = new Map<ArrayBufferLike, Array<[number, number]>>();
    for (const bytes of taken) byBlock.set(bytes.buffer, [...(byBlock.get(bytes.buffer) ?? []), [bytes.byteOffset, bytes.byteOffset + 44]]);
    for (const ranges of byBlock.values()) {
      const sorted = ranges.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]?.[0]).toBeGreaterThanOrEqual(sorted[i - 1]?.[1] ?? 0);
    }
  });

  it('refuses a negative or fractional size instead of handing bytes out again', () => {
    const pool = new RandomPool();
    pool.take(44);
    expect(() => pool.take(-44)).toThrow(RangeError);
    expect(() => pool.take(1.5)).toThrow(RangeError);
  });

  it('draws large requests directly', () => {
    const pool = new RandomPool();
    const large = pool.take(1000);
    expect(large).toHaveLength(1000);
    expect(large.equals(Buffer.alloc(1000))).toBe(false);
  });
});
