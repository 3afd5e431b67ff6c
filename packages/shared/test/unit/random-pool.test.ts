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

  it('hands out an empty buffer for 0 bytes, and names the size it refuses', () => {
    const pool = new RandomPool();
    expect(pool.take(0)).toHaveLength(0);
    expect(() => pool.take(-1)).toThrow('cannot take -1 random bytes');
  });

  it('serves up to 256 bytes from its block and fills the block to its last byte before drawing a new one', () => {
    const pool = new RandomPool();
    // 16 × 256 bytes are exactly one block of 4096: all from the same block, back to back
    const full = Array.from({ length: 16 }, () => pool.take(256));
    expect(new Set(full.map((bytes) => bytes.buffer)).size).toBe(1);
    expect(full.map((bytes) => bytes.byteOffset - (full[0]?.byteOffset ?? 0))).toEqual(Array.from({ length: 16 }, (_, i) => i * 256));
    // the next byte needs a new block
    const next = pool.take(1);
    expect(next.buffer).not.toBe(full[0]?.buffer);
  });

  it('draws more than 256 bytes outside its block, leaving the block to smaller requests', () => {
    const pool = new RandomPool();
    const small = pool.take(16);
    const large = pool.take(257);
    expect(large).toHaveLength(257);
    expect(large.buffer).not.toBe(small.buffer);
    const after = pool.take(16);
    expect(after.buffer).toBe(small.buffer);
    expect(after.byteOffset).toBe(small.byteOffset + 16);
  });
});
