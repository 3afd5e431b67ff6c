import type { KeyObject } from 'node:crypto';
import { DmrError, reservedAgentIdProblem } from '@dmr/shared/base';
import { isServerName } from '../domain/identity.js';
import { ADMIN_ROLES, type AdminRole, isAdminRole, PERSON_PATTERN, ROLE_URI_PREFIX, SERVER_URI_PREFIX } from '../domain/roles.js';
import { isRsaKey, toX509PublicKey } from './keys.js';
import { agentUri, checkCommonName, checkDnsNames, checkIpAddresses, checkUserName } from './names.js';
import type { CaPurpose, CertificateKind } from './vocabulary.js';
import { x509 } from './x509.js';

export { CA_PURPOSES, type CaPurpose, CERTIFICATE_KINDS, type CertificateKind } from './vocabulary.js';

const KINDS_OF_PURPOSE: Readonly<Record<CaPurpose, readonly CertificateKind[]>> = {
  agents: ['server', 'agent', 'admin', 'audit'],
  broker: ['rabbitmq-server', 'relay-user'],
};

/** Throws DMR_CA_PURPOSE_MISMATCH when a CA for `purpose` must not issue a `kind` certificate. */
export function assertKindAllowed(purpose: CaPurpose, kind: CertificateKind): void {
  if (KINDS_OF_PURPOSE[purpose].includes(kind)) return;
  const needed = purpose === 'agents' ? 'a broker CA ("dmrctl ca init --purpose broker")' : 'the agent CA';
  throw new DmrError(
    'DMR_CA_PURPOSE_MISMATCH',
    `this is ${purpose === 'agents' ? 'an agent' : 'a broker'} CA: it does not issue ${kind} certificates; use ${needed}`,
  );
}

/** What a leaf certificate says: its subject CN, SANs, EKU and key usage. Built by the `*Profile` functions. */
export interface LeafProfile {
  readonly kind: CertificateKind;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
  /** Set for agent certificates only. */
  readonly agentId?: string;
  /** `serverAuth+clientAuth`: a DMR server instance, which also logs in to the control plane with its certificate. */
  readonly extendedKeyUsage: 'serverAuth' | 'clientAuth' | 'serverAuth+clientAuth';
}

/**
 * A TLS server profile (DMR server or RabbitMQ): SAN DNS names and IP addresses, EKU serverAuth.
 * The CN defaults to the first DNS name (else the first IP); clients check the SANs, never the CN.
 * Throws DMR_CA_INVALID_REQUEST for a bad name or when no name is given.
 */
export function serverProfile(
  kind: 'server' | 'rabbitmq-server',
  names: { dnsNames?: readonly string[]; ipAddresses?: readonly string[]; commonName?: string },
): LeafProfile {
  const dnsNames = checkDnsNames(names.dnsNames ?? []);
  const ipAddresses = checkIpAddresses(names.ipAddresses ?? []);
  const fallbackCn = dnsNames[0] ?? ipAddresses[0];
  if (fallbackCn === undefined)
    throw new DmrError('DMR_CA_INVALID_REQUEST', 'a server certificate needs at least one DNS name or IP address');
  const commonName = checkCommonName(names.commonName ?? fallbackCn);
  return { kind, commonName, dnsNames, ipAddresses, uris: [], extendedKeyUsage: 'serverAuth' };
}

/**
 * An agent client profile: CN = agent id, SAN URI `urn:dmr:agent:<agentId>`, EKU clientAuth. Throws
 * DMR_CA_INVALID_REQUEST for an invalid id or one that names a RabbitMQ user (the built-in reserved names and
 * `brokerUsers`).
 */
export function agentProfile(agentId: string, brokerUsers: readonly string[] = []): LeafProfile {
  const uri = agentUri(agentId);
  const reserved = reservedAgentIdProblem(agentId, brokerUsers);
  if (reserved !== undefined) throw new DmrError('DMR_CA_INVALID_REQUEST', reserved);
  return { kind: 'agent', commonName: agentId, dnsNames: [], ipAddresses: [], uris: [uri], agentId, extendedKeyUsage: 'clientAuth' };
}

/**
 * An administrator's client profile for dmr-control's admin API: CN = the person, SAN URI
 * `urn:dmr:role:<role>:<person>`, EKU clientAuth (docs/control-plane.md, "Identities and roles"). Throws
 * DMR_CA_INVALID_REQUEST for a role other than admin, operator or auditor, or a person outside {@link PERSON_PATTERN}.
 */
export function adminProfile(role: string, person: string): LeafProfile {
  if (!isAdminRole(role)) throw new DmrError('DMR_CA_INVALID_REQUEST', `role "${role}" must be one of ${ADMIN_ROLES.join(', ')}`);
  if (!PERSON_PATTERN.test(person)) throw new DmrError('DMR_CA_INVALID_REQUEST', `name "${person}" must match ${PERSON_PATTERN.source}`);
  const commonName = checkCommonName(person.slice(0, 64));
  const uri = `${ROLE_URI_PREFIX}${role satisfies AdminRole}:${person}`;
  return { kind: 'admin', commonName, dnsNames: [], ipAddresses: [], uris: [uri], extendedKeyUsage: 'clientAuth' };
}

/**
 * A DMR server instance as the control plane issues it online: SAN URI `urn:dmr:server:<serverName>` (its identity
 * towards the control plane) plus its DNS names and IP addresses, CN = the first DNS name (else the first IP, else
 * the server name), EKU serverAuth + clientAuth. Throws DMR_CA_INVALID_REQUEST for a bad name.
 */
export function serverInstanceProfile(
  serverName: string,
  names: { dnsNames?: readonly string[]; ipAddresses?: readonly string[] },
): LeafProfile {
  if (!isServerName(serverName)) {
    throw new DmrError('DMR_CA_INVALID_REQUEST', `server name "${serverName}" must be a DNS-style name (letters, digits, hyphens, dots)`);
  }
  const dnsNames = checkDnsNames(names.dnsNames ?? []);
  const ipAddresses = checkIpAddresses(names.ipAddresses ?? []);
  const commonName = checkCommonName(dnsNames[0] ?? ipAddresses[0] ?? serverName);
  const uris = [`${SERVER_URI_PREFIX}${serverName}`];
  return { kind: 'server', commonName, dnsNames, ipAddresses, uris, extendedKeyUsage: 'serverAuth+clientAuth' };
}

/** A RabbitMQ SASL EXTERNAL client profile: CN = the RabbitMQ user name, EKU clientAuth. Throws DMR_CA_INVALID_REQUEST. */
export function relayUserProfile(user: string): LeafProfile {
  const commonName = checkUserName(user);
  return { kind: 'relay-user', commonName, dnsNames: [], ipAddresses: [], uris: [], extendedKeyUsage: 'clientAuth' };
}

/** Extensions of the self-signed root: basicConstraints CA:true (critical), keyCertSign + cRLSign (critical), SKI. */
export async function caExtensions(publicKey: x509.PublicKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

/**
 * Extensions of a leaf: CA:false, key usage digitalSignature (+ keyEncipherment for an RSA
 * server key, which TLS 1.2 RSA key exchange needs), the profile's EKU and SANs, SKI, and
 * the AKI pointing at the CA key.
 */
export async function leafExtensions(profile: LeafProfile, subjectKey: KeyObject, caPublicKey: x509.PublicKey): Promise<x509.Extension[]> {
  const publicKey = toX509PublicKey(subjectKey);
  const isServer = profile.extendedKeyUsage !== 'clientAuth';
  const usages = x509.KeyUsageFlags.digitalSignature | (isServer && isRsaKey(subjectKey) ? x509.KeyUsageFlags.keyEncipherment : 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension(extendedKeyUsages(profile), false),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caPublicKey),
  ];
  const sans = subjectAltNames(profile);
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  return extensions;
}

function extendedKeyUsages(profile: LeafProfile): string[] {
  if (profile.extendedKeyUsage === 'serverAuth+clientAuth') return [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
  return [profile.extendedKeyUsage === 'serverAuth' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth];
}

function subjectAltNames(profile: LeafProfile): x509.JsonGeneralNames {
  return [
    ...profile.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...profile.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...profile.uris.map((value) => ({ type: 'url' as const, value })),
  ];
}

/** The SAN URI every audit tree-head signing certificate carries; the verifier refuses a head signed by any other. */
export const AUDIT_SIGNER_URI = 'urn:dmr:audit-signer';

/**
 * The audit tree-head signer's profile (docs/audit.md): CN `dmr-audit-<instance>`, SAN URI {@link AUDIT_SIGNER_URI},
 * EKU clientAuth (no TLS use: the URI is what marks it). Issued by the agent CA of dmr-control's ring.
 */
export function auditProfile(instance: string): LeafProfile {
  const commonName = checkCommonName(`dmr-audit-${instance}`.slice(0, 64));
  return { kind: 'audit', commonName, dnsNames: [], ipAddresses: [], uris: [AUDIT_SIGNER_URI], extendedKeyUsage: 'clientAuth' };
}
