// The audit writer's signing identity: a fresh P-256 key and a certificate for it from the agent CA (profile
// `audit`). The key lives only in the writer's memory; every head carries the certificate, so an old key needs no
// keeping: a verifier checks the certificate against the CA bundle.

import { withFinalNewline } from '@dmr/shared/base';
import { type CaSigner, signLeaf, validityFor } from './issue.js';
import { generateKeyPair } from './keys.js';
import { auditProfile } from './profiles.js';

/** Default validity of an audit signing certificate, days (a new one is issued at every start). */
export const AUDIT_SIGNER_VALIDITY_DAYS = 397;

/** An audit signing key and its certificate (PEM). */
export interface IssuedAuditSigner {
  readonly key: import('node:crypto').KeyObject;
  readonly certificatePem: string;
}

/** Issues a signing certificate for a new key with `ca` (the agent CA), named after `instance`. */
export async function issueAuditSigner(ca: CaSigner, instance: string, now: Date = new Date()): Promise<IssuedAuditSigner> {
  const keys = generateKeyPair('ec-p256');
  const wanted = validityFor(AUDIT_SIGNER_VALIDITY_DAYS, now);
  const notAfter = new Date(Math.min(wanted.notAfter.getTime(), ca.certificate.notAfter.getTime()));
  const certificate = await signLeaf(ca, auditProfile(instance), keys.publicKey, { notBefore: wanted.notBefore, notAfter });
  return { key: keys.privateKey, certificatePem: withFinalNewline(certificate.toString('pem')) };
}
