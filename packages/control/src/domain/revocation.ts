// Revocation reasons the admin API accepts (RFC 5280 §5.3.1 CRLReason names). Pure.

import { type CertRefusal, certRefusal } from './refusal.js';

/**
 * The reasons `POST /v1/certificates/{serial}/revocation` accepts. Left out: `certificateHold` (this control plane
 * never un-revokes, and a held certificate would look revoked to OpenSSL anyway) and `removeFromCRL` (delta CRLs only).
 */
export const API_REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

/** One of {@link API_REVOCATION_REASONS}. */
export type ApiRevocationReason = (typeof API_REVOCATION_REASONS)[number];

/** The reason named `value`, or `DMR_CA_INVALID_REQUEST` naming the field `reason` and listing the accepted names. */
export function parseApiRevocationReason(
  value: unknown,
): { readonly ok: true; readonly value: ApiRevocationReason } | CertRefusal<'DMR_CA_INVALID_REQUEST'> {
  const reason = API_REVOCATION_REASONS.find((name) => name === value);
  if (reason !== undefined) return { ok: true, value: reason };
  return certRefusal('DMR_CA_INVALID_REQUEST', `reason must be one of ${API_REVOCATION_REASONS.join(', ')}`, 'reason');
}
