// Verifying the audit log: every stored entry against its own body and position, and every signed tree head against
// the roots recomputed from the bodies and against the trusted CAs. Pure over an entry stream and a head list; the
// first finding in log order is the answer (the one an operator investigates first).

import type { X509Certificate } from 'node:crypto';
import { readEntryClaims } from './entry.js';
import { leafHash, RootAccumulator } from './merkle.js';
import { type CertificateCheck, type SignedTreeHead, treeHeadProblem } from './tree-head.js';

/** An `audit_entries` row as read back. */
export interface StoredEntryRow {
  readonly seq: number;
  readonly eventId: string;
  readonly leafHash: Buffer;
  readonly body: string;
}

/** What is wrong, and where. */
export type FindingKind = 'altered' | 'removed' | 'reordered' | 'head-forged' | 'head-mismatch';

/** The first problem found. `seq`/`eventId` name an entry, `headSize` a signed head. */
export interface VerifyFinding {
  readonly kind: FindingKind;
  readonly seq?: number;
  readonly eventId?: string;
  readonly headSize?: number;
  readonly message: string;
}

/** The verdict of {@link verifyAuditLog}. */
export interface VerifyReport {
  readonly ok: boolean;
  /** Entries whose body, position and leaf hash were checked. */
  readonly entriesChecked: number;
  /** Signed heads whose signature and root were checked. */
  readonly headsChecked: number;
  /** The largest signed head checked (0 when none). */
  readonly verifiedSize: number;
  readonly finding?: VerifyFinding;
}

/** What {@link verifyAuditLog} reads. Entries must come in ascending seq order, starting at seq 1. */
export interface VerifyInput {
  readonly entries: AsyncIterable<StoredEntryRow>;
  readonly heads: readonly SignedTreeHead[];
  readonly trustedCas: readonly X509Certificate[];
  /** First seq whose entry is checked in full (default 1); earlier leaves only feed the roots. */
  readonly from?: number;
  /** Last seq checked (default: the end of the log); reading stops at the first signed head covering it. */
  readonly to?: number;
}

class Verification {
  readonly acc = new RootAccumulator();
  entriesChecked = 0;
  headsChecked = 0;
  verifiedSize = 0;
  finding: VerifyFinding | undefined;
  headIndex = 0;
  readonly certificates = new Map<string, CertificateCheck>();

  constructor(
    readonly heads: readonly SignedTreeHead[],
    readonly trustedCas: readonly X509Certificate[],
    readonly from: number,
  ) {}

  report(): VerifyReport {
    const { entriesChecked, headsChecked, verifiedSize, finding } = this;
    return finding === undefined
      ? { ok: true, entriesChecked, headsChecked, verifiedSize }
      : { ok: false, entriesChecked, headsChecked, verifiedSize, finding };
  }
}

/**
 * Verifies the log: for each entry (seq order) its seq follows the previous one (else `removed`), its body claims
 * its own seq and eventId (else `reordered`), and its stored leaf hash is the hash of its body (else `altered`); at
 * each signed head size, the head's certificate and signature (else `head-forged`) and the root of the leaves so
 * far, recomputed from the bodies (else `head-mismatch`: an entry in that head's range was rewritten together with
 * its leaf hash). A head larger than the log is `removed` (entries cut off the end).
 */
export async function verifyAuditLog(input: VerifyInput): Promise<VerifyReport> {
  const heads = [...input.heads].filter((h) => h.size > 0).sort((a, b) => a.size - b.size);
  const run = new Verification(heads, input.trustedCas, input.from ?? 1);
  const to = input.to ?? Number.POSITIVE_INFINITY;
  const stopAt = heads.find((h) => h.size >= to)?.size ?? to;
  for await (const row of input.entries) {
    if (run.acc.size >= stopAt) break;
    checkEntry(run, row);
    if (run.finding === undefined) checkHeadsAt(run);
    if (run.finding !== undefined) return run.report();
  }
  const pending = run.heads[run.headIndex];
  if (pending !== undefined && pending.size <= stopAt) {
    const seq = run.acc.size + 1;
    run.finding = {
      kind: 'removed',
      seq,
      headSize: pending.size,
      message: `the signed head of size ${pending.size} covers entries up to seq ${pending.size}, but the log ends at seq ${run.acc.size}: seq ${seq} and later were removed`,
    };
  }
  return run.report();
}

function checkEntry(run: Verification, row: StoredEntryRow): void {
  const expected = run.acc.size + 1;
  if (row.seq !== expected) {
    run.finding = {
      kind: 'removed',
      seq: expected,
      message: `entry seq ${expected} is missing (the next stored entry is seq ${row.seq}, eventId ${row.eventId})`,
    };
    return;
  }
  const bodyLeaf = leafHash(Buffer.from(row.body, 'utf8'));
  if (row.seq >= run.from) {
    run.entriesChecked += 1;
    const claims = readEntryClaims(row.body);
    if (claims !== undefined && claims.seq !== row.seq) {
      run.finding = {
        kind: 'reordered',
        seq: row.seq,
        eventId: row.eventId,
        message: `entry at seq ${row.seq} holds the entry written at seq ${claims.seq} (eventId ${claims.eventId}): entries were reordered`,
      };
      return;
    }
    if (claims === undefined || claims.eventId !== row.eventId || !bodyLeaf.equals(row.leafHash)) {
      run.finding = {
        kind: 'altered',
        seq: row.seq,
        eventId: row.eventId,
        message: `entry seq ${row.seq} (eventId ${row.eventId}) was altered: its body no longer matches its ${claims === undefined ? 'form' : claims.eventId !== row.eventId ? 'eventId' : 'leaf hash'}`,
      };
      return;
    }
  }
  run.acc.push(row.seq >= run.from ? bodyLeaf : row.leafHash);
}

function checkHeadsAt(run: Verification): void {
  for (let head = run.heads[run.headIndex]; head !== undefined && head.size === run.acc.size; head = run.heads[run.headIndex]) {
    run.headIndex += 1;
    const problem = treeHeadProblem(head, run.trustedCas, run.certificates);
    if (problem !== undefined) {
      run.finding = { kind: 'head-forged', headSize: head.size, message: `the signed head of size ${head.size} is forged: ${problem}` };
      return;
    }
    if (!run.acc.root().equals(head.rootHash)) {
      const previous = run.verifiedSize;
      run.finding = {
        kind: 'head-mismatch',
        headSize: head.size,
        seq: previous + 1,
        message: `the root of entries 1..${head.size} is not the one signed at ${head.signedAt}: an entry in seq ${previous + 1}..${head.size} was rewritten together with its leaf hash`,
      };
      return;
    }
    run.headsChecked += 1;
    run.verifiedSize = head.size;
  }
}
