// Who may call what on dmr-control (docs/control-plane.md, "Identities and roles"). Pure: the caller's identity comes
// from the SAN URI of a client certificate that TLS already verified; this module only reads and judges it.

import { AGENT_ID_PATTERN, parseSubjectAltName } from '@dmr/shared/base';

/** The roles a client certificate can carry. */
export type Role = 'admin' | 'operator' | 'auditor' | 'server' | 'agent';

/** The roles an administrator certificate (`urn:dmr:role:<role>:<person>`) may name. */
export const ADMIN_ROLES = ['admin', 'operator', 'auditor'] as const;

/** One of {@link ADMIN_ROLES}. */
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** Prefix of an administrator's SAN URI. */
export const ROLE_URI_PREFIX = 'urn:dmr:role:';
/** Prefix of a DMR server instance's SAN URI. */
export const SERVER_URI_PREFIX = 'urn:dmr:server:';
/** Prefix of an agent's SAN URI. */
export const AGENT_ROLE_URI_PREFIX = 'urn:dmr:agent:';

/** A person's name in a role URI: letters, digits and `._@-`, 1–128 characters (an e-mail address fits). */
export const PERSON_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
// a DNS name (the server certificate's CN), lowercase or not
const SERVER_NAME_PATTERN =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The identity a client certificate proves: its role, the name it carries, and the SAN URI itself (the actor in the change log). */
export interface CallerIdentity {
  readonly role: Role;
  /** The person, server name or agent id. */
  readonly name: string;
  /** The SAN URI, e.g. `urn:dmr:role:admin:mari`. */
  readonly uri: string;
}

/**
 * The one DMR identity in a certificate's subjectAltName text (Node's format, parsed by `parseSubjectAltName`, which
 * never splits a quoted value). Undefined when there is none, when the text is malformed, or when the certificate
 * names more than one DMR identity: ambiguous identities are refused, never guessed.
 */
export function identityFromSubjectAltName(text: string | undefined): CallerIdentity | undefined {
  const names = text === undefined ? undefined : parseSubjectAltName(text);
  if (names === undefined) return undefined;
  const uris = names.filter((name) => name.type === 'URI' && name.value.startsWith('urn:dmr:')).map((name) => name.value);
  const [only] = uris;
  return uris.length === 1 && only !== undefined ? identityFromUri(only) : undefined;
}

/** Reads one `urn:dmr:…` URI; undefined for an unknown kind, an unknown role or a malformed name. */
export function identityFromUri(uri: string): CallerIdentity | undefined {
  if (uri.startsWith(ROLE_URI_PREFIX)) {
    const rest = uri.slice(ROLE_URI_PREFIX.length);
    const colon = rest.indexOf(':');
    const role = rest.slice(0, colon);
    const name = rest.slice(colon + 1);
    if (colon <= 0 || !isAdminRole(role) || !PERSON_PATTERN.test(name)) return undefined;
    return { role, name, uri };
  }
  if (uri.startsWith(SERVER_URI_PREFIX)) {
    const name = uri.slice(SERVER_URI_PREFIX.length);
    return SERVER_NAME_PATTERN.test(name) ? { role: 'server', name, uri } : undefined;
  }
  if (uri.startsWith(AGENT_ROLE_URI_PREFIX)) {
    const name = uri.slice(AGENT_ROLE_URI_PREFIX.length);
    return AGENT_ID_PATTERN.test(name) ? { role: 'agent', name, uri } : undefined;
  }
  return undefined;
}

/** True for `admin`, `operator` and `auditor`. */
export function isAdminRole(value: string): value is AdminRole {
  return (ADMIN_ROLES as readonly string[]).includes(value);
}

/**
 * What a route needs. `public` routes need no certificate; every other one names who may call it in
 * {@link ACCESS_ROLES}. The certificate routes (control/certs) add theirs here.
 */
export type Access =
  | 'public'
  | 'agents:read'
  | 'agents:write'
  | 'servers:read'
  | 'servers:report'
  | 'policies:read'
  | 'policies:write'
  | 'changes:read'
  | 'config-version:read'
  | 'registry:export'
  | 'registry:import'
  | 'certificates:read'
  | 'certificates:write'
  | 'certificates:servers'
  | 'certificates:renew';

/**
 * The role matrix (docs/control-plane.md): admin everything; operator agents (read, write), read servers and
 * policies; auditor every read, change log included; server its own report, the config version and the policies
 * it enforces; agent the config version only (its renewal is the certificate routes' business).
 */
export const ACCESS_ROLES: Readonly<Record<Exclude<Access, 'public'>, readonly Role[]>> = {
  'agents:read': ['admin', 'operator', 'auditor'],
  'agents:write': ['admin', 'operator'],
  'servers:read': ['admin', 'operator', 'auditor'],
  'servers:report': ['server'],
  'policies:read': ['admin', 'operator', 'auditor', 'server'],
  'policies:write': ['admin'],
  'changes:read': ['admin', 'auditor'],
  'config-version:read': ['admin', 'operator', 'auditor', 'server', 'agent'],
  'registry:export': ['admin'],
  'registry:import': ['admin'],
  // control/certs: list; revoke, issue for agents and their enrollment tokens; the same for servers and the relay
  // user (admin only: their certificates open the broker and every agent's traffic); renewal of one's own certificate
  'certificates:read': ['admin', 'operator', 'auditor'],
  'certificates:write': ['admin', 'operator'],
  'certificates:servers': ['admin'],
  'certificates:renew': ['server', 'agent'],
};

/** Whether `role` may do `access`. */
export function isAllowed(role: Role, access: Access): boolean {
  return access === 'public' || ACCESS_ROLES[access].includes(role);
}
