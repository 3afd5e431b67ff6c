// RFC 6962 §2.1 Merkle tree hashing, proofs and their verification (the RFC 9162 §2.1.3.2 / §2.1.4.2 algorithms).
// Pure: hashes in, hashes out. Leaves are given as their leaf hashes so that callers never hold whole entries.

import { createHash } from 'node:crypto';

/** SHA-256 output length in bytes. */
export const HASH_BYTES = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** The leaf hash SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

/** The interior node hash SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The largest power of two strictly smaller than `n` (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Computes the tree head of a growing log one leaf at a time, in O(log n) memory: the stack holds the roots of the
 * perfect subtrees the leaves so far decompose into (largest first), and `root()` folds them right to left, which is
 * exactly MTH of RFC 6962 for any size.
 */
export class RootAccumulator {
  readonly #stack: Buffer[] = [];
  #size = 0;

  /** Leaves added so far. */
  get size(): number {
    return this.#size;
  }

  /** An independent copy (the stack is small: one hash per set bit of the size). */
  clone(): RootAccumulator {
    const copy = new RootAccumulator();
    copy.#stack.push(...this.#stack);
    copy.#size = this.#size;
    return copy;
  }

  /** Adds the next leaf hash. */
  push(leaf: Buffer): void {
    let node = leaf;
    this.#size += 1;
    for (let n = this.#size; (n & 1) === 0; n >>>= 1) {
      const left = this.#stack.pop();
      if (left === undefined) break;
      node = nodeHash(left, node);
    }
    this.#stack.push(node);
  }

  /** MTH of the leaves added so far. */
  root(): Buffer {
    const last = this.#stack.at(-1);
    if (last === undefined) return EMPTY_ROOT;
    let node = last;
    for (let i = this.#stack.length - 2; i >= 0; i--) node = nodeHash(this.#stack[i] as Buffer, node);
    return node;
  }
}

/** MTH(D[n]) of the given leaf hashes. */
export function rootOf(leaves: readonly Buffer[]): Buffer {
  const acc = new RootAccumulator();
  for (const leaf of leaves) acc.push(leaf);
  return acc.root();
}

/**
 * PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `index` in the tree of `leaves` (all its leaves).
 *
 * @throws RangeError when index is not a leaf of the tree.
 */
export function inclusionProof(leaves: readonly Buffer[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
    throw new RangeError(`leaf ${index} is not in a tree of ${leaves.length}`);
  return path(index, leaves, 0, leaves.length);
}

function path(m: number, leaves: readonly Buffer[], from: number, to: number): Buffer[] {
  const n = to - from;
  if (n <= 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...path(m, leaves, from, from + k), rootOf(leaves.slice(from + k, to))];
  return [...path(m - k, leaves, from + k, to), rootOf(leaves.slice(from, from + k))];
}

/**
 * PROOF(m, D[n]) of RFC 6962 §2.1.2: the consistency proof between the tree of the first `oldSize` leaves and the
 * tree of all `leaves`. Empty when oldSize is 0 or the whole tree.
 *
 * @throws RangeError when oldSize is not within 0..leaves.length.
 */
export function consistencyProof(leaves: readonly Buffer[], oldSize: number): Buffer[] {
  if (!Number.isInteger(oldSize) || oldSize < 0 || oldSize > leaves.length) {
    throw new RangeError(`size ${oldSize} is not within a tree of ${leaves.length}`);
  }
  if (oldSize === 0 || oldSize === leaves.length) return [];
  return subproof(oldSize, leaves, 0, leaves.length, true);
}

function subproof(m: number, leaves: readonly Buffer[], from: number, to: number, isWhole: boolean): Buffer[] {
  const n = to - from;
  if (m === n) return isWhole ? [] : [rootOf(leaves.slice(from, to))];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, leaves, from, from + k, isWhole), rootOf(leaves.slice(from + k, to))];
  return [...subproof(m - k, leaves, from + k, to, false), rootOf(leaves.slice(from, from + k))];
}

/** RFC 9162 §2.1.3.2: does `proof` show that `leaf` is leaf `index` of the tree of `treeSize` with `root`? */
export function verifyInclusion(leaf: Buffer, index: number, treeSize: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `oldSize` with `oldRoot` is a prefix of the tree of
 * `newSize` with `newRoot`?
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Buffer, newRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (!Number.isInteger(oldSize) || !Number.isInteger(newSize) || oldSize < 0 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Buffer;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
