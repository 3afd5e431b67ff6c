// Tables of the certificate lifecycle (migration 002), as Kysely sees them.

/** `crls`: every CRL signed, per CA; the highest number is the one in force. */
export interface CrlTable {
  ca_id: string;
  crl_number: number | string;
  this_update: string;
  next_update: string;
  pem: string;
  created_at: string;
}

/** `service_enrollment_tokens`: hashes only; names as JSON arrays. */
export interface ServiceTokenTable {
  token_hash: string;
  subject_kind: string;
  subject_id: string;
  /** JSON array of strings. */
  dns_names: string;
  /** JSON array of strings. */
  ip_addresses: string;
  created_at: string;
  expires_at: string;
  created_by: string;
  used_at: string | null;
}
