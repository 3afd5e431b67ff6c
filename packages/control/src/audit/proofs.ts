// Inclusion and consistency proofs against signed heads, as the JSON `dmrctl audit prove` and `consistency` print.

import { consistencyProof, inclusionProof, verifyConsistency, verifyInclusion } from './merkle.js';
import type { SignedTreeHead } from './tree-head.js';

/** A signed head as JSON: hashes in hex, the signature in base64, the certificate as PEM. */
export interface TreeHeadJson {
  readonly size: number;
  readonly rootHash: string;
  readonly signedAt: string;
  readonly signature: string;
  readonly keyId: string;
  readonly certificate: string;
}

/** The head as JSON. */
export function treeHeadJson(head: SignedTreeHead): TreeHeadJson {
  return {
    size: head.size,
    rootHash: head.rootHash.toString('hex'),
    signedAt: head.signedAt,
    signature: head.signature.toString('base64'),
    keyId: head.keyId,
    certificate: head.certificatePem,
  };
}

/** `dmrctl audit prove`: leaf `seq` (1-based) is in the tree of `head`. `verified` is the RFC 9162 check. */
export interface InclusionProofJson {
  readonly eventId: string;
  readonly seq: number;
  readonly leafIndex: number;
  readonly leafHash: string;
  readonly treeHead: TreeHeadJson;
  readonly auditPath: readonly string[];
  readonly verified: boolean;
}

/**
 * The inclusion proof of entry `seq` against `head`, from the leaf hashes of the first `head.size` entries.
 *
 * @throws RangeError when seq is not covered by the head.
 */
export function proveInclusion(leaves: readonly Buffer[], seq: number, eventId: string, head: SignedTreeHead): InclusionProofJson {
  const tree = leaves.slice(0, head.size);
  const index = seq - 1;
  const path = inclusionProof(tree, index);
  const leaf = tree[index] as Buffer;
  return {
    eventId,
    seq,
    leafIndex: index,
    leafHash: leaf.toString('hex'),
    treeHead: treeHeadJson(head),
    auditPath: path.map((p) => p.toString('hex')),
    verified: verifyInclusion(leaf, index, head.size, path, head.rootHash),
  };
}

/** `dmrctl audit consistency`: the older head's tree is a prefix of the newer one's. */
export interface ConsistencyProofJson {
  readonly oldHead: TreeHeadJson;
  readonly newHead: TreeHeadJson;
  readonly proof: readonly string[];
  readonly verified: boolean;
}

/** The consistency proof between two signed heads, from the leaf hashes of the first `newHead.size` entries. */
export function proveConsistency(leaves: readonly Buffer[], oldHead: SignedTreeHead, newHead: SignedTreeHead): ConsistencyProofJson {
  const proof = consistencyProof(leaves.slice(0, newHead.size), oldHead.size);
  return {
    oldHead: treeHeadJson(oldHead),
    newHead: treeHeadJson(newHead),
    proof: proof.map((p) => p.toString('hex')),
    verified: verifyConsistency(oldHead.size, newHead.size, oldHead.rootHash, newHead.rootHash, proof),
  };
}
