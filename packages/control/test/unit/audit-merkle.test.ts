import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  nodeHash,
  RootAccumulator,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/audit/merkle.js';

// The certificate-transparency test data (leaves as hex) and the published MTH(D[n]), n = 0..8.
const ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) =>
  Buffer.from(h, 'hex'),
);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

const LEAVES = ENTRIES.map(leafHash);
const hex = (hashes: readonly Buffer[]) => hashes.map((h) => h.toString('hex'));
const root = (n: number) => Buffer.from(ROOTS[n] as string, 'hex');
const tree = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf-${i}`)));

describe('RFC 6962 hashing (certificate-transparency vectors)', () => {
  it('hashes leaves and nodes with their domain prefixes', () => {
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(ROOTS[1]);
    const [a, b] = [leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))];
    expect(nodeHash(a, b)).toEqual(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([1]), a, b]))
        .digest(),
    );
    expect(leafHash(Buffer.concat([a, b]))).not.toEqual(nodeHash(a, b));
  });

  it('reproduces MTH(D[n]) for n = 0..8, in one go and incrementally', () => {
    const acc = new RootAccumulator();
    expect(acc.root()).toEqual(EMPTY_ROOT);
    for (let n = 0; n <= 8; n++) {
      expect(rootOf(LEAVES.slice(0, n)).toString('hex'), `size ${n}`).toBe(ROOTS[n]);
      if (n > 0) {
        acc.push(LEAVES[n - 1] as Buffer);
        expect(acc.root().toString('hex'), `incremental size ${n}`).toBe(ROOTS[n]);
      }
    }
  });

  it.each(INCLUSION)('inclusion proof of leaf %i in a tree of %i matches the vector and verifies', (m, n, expected) => {
    const proof = inclusionProof(LEAVES.slice(0, n), m);
    expect(hex(proof)).toEqual(expected);
    expect(verifyInclusion(LEAVES[m] as Buffer, m, n, proof, root(n))).toBe(true);
  });

  it.each(CONSISTENCY)('consistency proof %i → %i matches the vector and verifies', (m, n, expected) => {
    const proof = consistencyProof(LEAVES.slice(0, n), m);
    expect(hex(proof)).toEqual(expected);
    expect(verifyConsistency(m, n, root(m), root(n), proof)).toBe(true);
  });
});

describe('proofs, property-style over every size up to 40', () => {
  it('every inclusion proof verifies; a wrong leaf, index, root or a cut or flipped proof does not', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = tree(n);
      const r = rootOf(leaves);
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(leaves, m);
        const leaf = leaves[m] as Buffer;
        expect(verifyInclusion(leaf, m, n, proof, r), `n=${n} m=${m}`).toBe(true);
        expect(verifyInclusion(leafHash(Buffer.from('x')), m, n, proof, r)).toBe(false);
        if (n > 1) expect(verifyInclusion(leaf, (m + 1) % n, n, proof, r)).toBe(false);
        expect(verifyInclusion(leaf, m, n, proof, EMPTY_ROOT)).toBe(false);
        expect(verifyInclusion(leaf, m, n, [...proof, r], r)).toBe(false);
        if (proof.length > 0) {
          expect(verifyInclusion(leaf, m, n, proof.slice(0, -1), r)).toBe(false);
          const flipped = proof.map((p, i) => (i === 0 ? Buffer.from(p.map((b, j) => (j === 0 ? b ^ 1 : b))) : p));
          expect(verifyInclusion(leaf, m, n, flipped, r)).toBe(false);
        }
      }
    }
  });

  it('every consistency proof verifies; a wrong old root, new root or a cut proof does not', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = tree(n);
      const newRoot = rootOf(leaves);
      for (let m = 0; m <= n; m++) {
        const oldRoot = rootOf(leaves.slice(0, m));
        const proof = consistencyProof(leaves, m);
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof), `m=${m} n=${n}`).toBe(true);
        if (m > 0 && m < n) {
          expect(verifyConsistency(m, n, newRoot, newRoot, proof)).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, oldRoot, proof)).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
          const forked = rootOf([...leaves.slice(0, m - 1), leafHash(Buffer.from('forged'))]);
          expect(verifyConsistency(m, n, forked, newRoot, proof)).toBe(false);
        }
      }
    }
  });

  it('refuses a shrinking log and sizes out of range', () => {
    const leaves = tree(8);
    expect(verifyConsistency(8, 6, rootOf(leaves), rootOf(leaves.slice(0, 6)), [])).toBe(false);
    expect(() => inclusionProof(leaves, 8)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, 9)).toThrow(RangeError);
    expect(verifyInclusion(leaves[0] as Buffer, 8, 8, [], rootOf(leaves))).toBe(false);
  });
});
