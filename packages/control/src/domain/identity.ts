// Whom a certificate of the control plane names (docs/control-plane.md, "Identities and roles"), as pure values.

import { AGENT_URI_PREFIX, isAgentId } from '@dmr/shared/base';
import { identityFromUri, SERVER_URI_PREFIX } from './roles.js';

/** Every DMR identity URI starts with this; a CSR naming one that is not the requester's own is refused. */
export const DMR_URI_PREFIX = 'urn:dmr:';

/**
 * The subject of a certificate the control plane issues online: an agent (agent CA), a DMR server instance (agent
 * CA, serverAuth + clientAuth) or the relay's RabbitMQ user (broker CA, SASL EXTERNAL login).
 */
export type CertificateIdentity =
  | { readonly kind: 'agent'; readonly id: string }
  | { readonly kind: 'server'; readonly id: string }
  | { readonly kind: 'relay-user'; readonly id: string };

/** The kinds of {@link CertificateIdentity}. */
export type IdentityKind = CertificateIdentity['kind'];

/** Every {@link IdentityKind}. */
export const IDENTITY_KINDS: readonly IdentityKind[] = ['agent', 'server', 'relay-user'];

/**
 * True when `value` is a valid server instance name: one the API's caller guard reads back from the SAN URI
 * `urn:dmr:server:<name>` (a DNS-style name), so a server certificate issued here always authenticates there.
 */
export function isServerName(value: string): boolean {
  return identityFromUri(`${SERVER_URI_PREFIX}${value}`)?.role === 'server';
}

/** The SAN URI that names `identity`, or undefined for kinds named by their CN only (the relay user). */
export function identityUri(identity: CertificateIdentity): string | undefined {
  if (identity.kind === 'agent') return `${AGENT_URI_PREFIX}${identity.id}`;
  if (identity.kind === 'server') return `${SERVER_URI_PREFIX}${identity.id}`;
  return undefined;
}

/** True when `id` is a valid id for `kind` (agent id, server name, RabbitMQ user name). */
export function isIdentityId(kind: IdentityKind, id: string): boolean {
  if (kind === 'agent') return isAgentId(id);
  if (kind === 'server') return isServerName(id);
  return /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(id);
}

/** `kind:id`, for log lines and change-log subjects. */
export function describeIdentity(identity: CertificateIdentity): string {
  return `${identity.kind}:${identity.id}`;
}
