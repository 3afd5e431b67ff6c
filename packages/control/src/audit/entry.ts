// The canonical audit entry: what a leaf hashes. Canonical JSON of {seq, event}, so the position of an entry is part
// of what is signed: a row moved to another seq no longer matches its own body, and the verifier names it.

import type { AuditEvent } from '@dmr/shared/audit';
import { canonicalJson } from '../domain/canonical-json.js';
import { leafHash } from './merkle.js';

/** One entry as stored: `seq` from 1, the canonical body text and its RFC 6962 leaf hash. */
export interface AuditEntry {
  readonly seq: number;
  readonly eventId: string;
  /** Canonical JSON of `{seq, event}` (UTF-8). */
  readonly body: string;
  readonly leafHash: Buffer;
}

/** Builds the entry for `event` at position `seq` (1-based). */
export function encodeEntry(seq: number, event: AuditEvent): AuditEntry {
  const body = canonicalJson({ seq, event });
  return { seq, eventId: event.eventId, body, leafHash: leafHash(Buffer.from(body, 'utf8')) };
}

/** What a stored body claims; undefined when it is not an entry body at all. */
export interface EntryClaims {
  readonly seq: number;
  readonly eventId: string;
}

/** Reads the seq and eventId a body claims, without trusting it (the verifier compares them with the row). */
export function readEntryClaims(body: string): EntryClaims | undefined {
  try {
    const parsed = JSON.parse(body) as { seq?: unknown; event?: { eventId?: unknown } };
    if (typeof parsed.seq !== 'number' || typeof parsed.event?.eventId !== 'string') return undefined;
    return { seq: parsed.seq, eventId: parsed.event.eventId };
  } catch {
    return undefined;
  }
}
