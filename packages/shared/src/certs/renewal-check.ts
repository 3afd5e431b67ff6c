import { DmrError } from '../errors.js';
import { describeErrors } from '../result.js';
import { type CertificateFacts, type CertificateMaterial, inspectMaterial } from './certificate-material.js';

/**
 * A renewal must keep what makes the identity: the key pair (queued messages stay decryptable, and the registry does
 * not see a re-key) and every `urn:dmr:` SAN URI; and it must be valid now. Throws DMR_CERT_RESPONSE_INVALID.
 */
export function checkRenewed(material: CertificateMaterial, current: CertificateFacts, nowMs: number): CertificateFacts {
  const checked = inspectMaterial(material, nowMs);
  if (!checked.ok) {
    throw new DmrError('DMR_CERT_RESPONSE_INVALID', `dmr-control issued an unusable certificate: ${describeErrors(checked.errors)}`);
  }
  if (checked.value.publicKeySha256 !== current.publicKeySha256) {
    throw new DmrError('DMR_CERT_RESPONSE_INVALID', 'dmr-control renewed the certificate for another key');
  }
  const kept = dmrUris(checked.value.subjectAltName);
  const missing = [...dmrUris(current.subjectAltName)].filter((uri) => !kept.has(uri));
  if (missing.length > 0) throw new DmrError('DMR_CERT_RESPONSE_INVALID', `the renewed certificate lacks ${missing.join(', ')}`);
  return checked.value;
}

function dmrUris(subjectAltName: string | undefined): Set<string> {
  const uris = (subjectAltName ?? '').split(', ').filter((entry) => entry.startsWith('URI:urn:dmr:'));
  return new Set(uris);
}
