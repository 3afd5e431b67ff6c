// Tables of the audit log (migration 003), as Kysely sees them. bigint columns come back as strings from PostgreSQL.

/** `audit_entries`: append-only; `body` is canonical JSON of {seq, event}, `leaf_hash` its RFC 6962 leaf hash (hex). */
export interface AuditEntryTable {
  seq: number | string;
  event_id: string;
  leaf_hash: string;
  body: string;
  /** The dmr.audit stream offset the event was read at (null for events written directly). */
  stream_offset: number | string | null;
  written_at: string;
}

/** `audit_tree_heads`: append-only; one signed head per size. */
export interface AuditTreeHeadTable {
  size: number | string;
  /** hex */
  root_hash: string;
  signed_at: string;
  /** base64 */
  signature: string;
  /** SHA-256 (hex) of the certificate's DER. */
  key_id: string;
  /** PEM of the signing certificate. */
  certificate: string;
}
