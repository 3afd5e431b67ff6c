import { X509Certificate as NodeCertificate } from 'node:crypto';
import { DmrError } from '@dmr/shared/base';
import { type AltName, agentIdFromCertificate, parseSubjectAltName } from './san.js';
import { normaliseSerial } from './serial.js';

const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'ocspSigning',
};

/** What `dmrctl cert show` prints about a certificate. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  /** Canonical hex. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectAltNames: readonly AltName[];
  /** Names of known EKU purposes, OIDs for the rest. */
  readonly extendedKeyUsage: readonly string[];
  readonly isCa: boolean;
  readonly agentId: string | undefined;
  readonly keyType: string;
  readonly fingerprintSha256: string;
}

/** Summarises a PEM certificate (the first one in `pem`). Throws DMR_CA_CERT_INVALID when it is not one. */
export function describeCertificate(pem: string): CertificateSummary {
  let cert: NodeCertificate;
  try {
    cert = new NodeCertificate(pem);
  } catch (error) {
    throw new DmrError('DMR_CA_CERT_INVALID', 'not a PEM X.509 certificate', { cause: error });
  }
  const key = cert.publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serial: normaliseSerial(cert.serialNumber),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    subjectAltNames: parseSubjectAltName(cert.subjectAltName ?? '') ?? [],
    extendedKeyUsage: (cert.keyUsage ?? []).map((oid) => EKU_NAMES[oid] ?? oid),
    isCa: cert.ca,
    agentId: agentIdFromCertificate(cert),
    keyType: `${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''}${bits ? ` ${bits}` : ''}`,
    fingerprintSha256: cert.fingerprint256,
  };
}
