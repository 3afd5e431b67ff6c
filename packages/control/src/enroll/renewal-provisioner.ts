// Renewal with the certificate being renewed (POST /v1/renew over mTLS): an agent, server or relay user whose
// current certificate this control plane issued, unrevoked and unexpired, gets a new one for the same identity and,
// by default, the same key pair (docs/control-plane.md, "Certificates").

import { normaliseSerial } from '@dmr/shared/base';
import { x509 } from '@dmr/shared/pki';
import type { VerifiedCsr } from '../ca/index.js';
import {
  type CertOutcome,
  certRefusal,
  checkCsrIdentity,
  checkRenewingCertificate,
  checkSameKey,
  describeIdentity,
} from '../domain/index.js';
import type { LifecycleConfig } from './config.js';
import type { Clock, LifecycleTransaction } from './ports.js';
import { issuingTermsFor, type ServerNames } from './profiles.js';
import type { Provisioner, SignGrant } from './provisioner.js';

/** A renewal request: the client certificate the TLS handshake verified (DER, as `getPeerX509Certificate().raw`). */
export interface RenewalRequest {
  readonly certificateDer: Uint8Array;
  /**
   * The kinds of certificate this caller may renew: its own role's (`agent`, `server`), or `relay-user` when a server
   * renews the relay user's certificate for it. Default: every renewable kind.
   */
  readonly allowedKinds?: readonly string[];
}

/**
 * The renewal provisioner. Refusals: DMR_CONTROL_CERTIFICATE_UNKNOWN, DMR_CONTROL_CERTIFICATE_REVOKED,
 * DMR_CONTROL_CERTIFICATE_EXPIRED, DMR_CONTROL_CSR_SUBJECT_MISMATCH and DMR_CONTROL_RENEWAL_KEY_CHANGED (field `csr`).
 */
export function renewalProvisioner(config: LifecycleConfig, clock: Clock): Provisioner<RenewalRequest> {
  return {
    type: 'renewal',
    async authorize(tx: LifecycleTransaction, request: RenewalRequest, csr: VerifiedCsr): Promise<CertOutcome<SignGrant>> {
      const presented = parseCertificate(request.certificateDer);
      if (presented === undefined) return unknownCertificate();
      const record = await tx.certificates.get(normaliseSerial(presented.serialNumber));
      // the serial alone could be claimed by a certificate of another trusted issuer: the bytes must be ours
      if (record === undefined || !sameDer(new x509.X509Certificate(record.pem).rawData, presented.rawData)) return unknownCertificate();
      if (request.allowedKinds !== undefined && !request.allowedKinds.includes(record.subjectKind)) return unknownCertificate();
      const current = checkRenewingCertificate(record, clock.now());
      if (!current.ok) return current;
      const identity = current.value;
      const refusal = checkCsrIdentity(csr.facts, identity) ?? checkSameKey(record.publicKeySha256, csr.publicKeySha256);
      if (refusal !== undefined) return refusal;
      const terms = issuingTermsFor(identity, config, serverNamesOf(presented));
      return {
        ok: true,
        value: { identity, ...terms, actor: { subject: describeIdentity(identity), role: identity.kind }, action: 'certificate.renew' },
      };
    },
  };
}

function unknownCertificate(): CertOutcome<never> {
  return certRefusal(
    'DMR_CONTROL_CERTIFICATE_UNKNOWN',
    'the client certificate was not issued by this control plane for an agent or server',
  );
}

function parseCertificate(der: Uint8Array): x509.X509Certificate | undefined {
  try {
    return new x509.X509Certificate(Uint8Array.from(der));
  } catch {
    return undefined;
  }
}

function sameDer(a: ArrayBuffer, b: ArrayBuffer): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** A server keeps the DNS names and IP addresses its current certificate carries. */
function serverNamesOf(certificate: x509.X509Certificate): ServerNames {
  const items = certificate.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const valuesOf = (type: string) => items.filter((item) => item.type === type).map((item) => item.value);
  return { dnsNames: valuesOf('dns'), ipAddresses: valuesOf('ip') };
}
