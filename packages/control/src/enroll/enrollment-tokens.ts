// Making one-time enrollment tokens (POST /v1/agents/{id}/enrollment-tokens, /v1/servers/{name}/enrollment-tokens).
// The token is returned once and only its SHA-256 is stored; neither appears in a log line or the change log.

import { DmrError } from '@dmr/shared/base';
import {
  type CertOutcome,
  certRefusal,
  enrollmentTokenExpiry,
  hashEnrollmentToken,
  isIdentityId,
  newEnrollmentToken,
} from '../domain/index.js';
import type { ServiceSubjectKind } from '../store/index.js';
import type { LifecycleConfig } from './config.js';
import type { Actor, LifecycleDeps } from './ports.js';
import { issuingTermsFor } from './profiles.js';

/** A token just made: show it to the operator once. */
export interface EnrollmentTokenGrant {
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/**
 * Makes a token for agent `agentId`, valid `enrollmentTokenTtlMs`. Refusal: DMR_CONTROL_NOT_FOUND (field `id`) when
 * the agent does not exist. Tokens do not bump the configVersion (nothing servers read changes).
 *
 * @param random - source of random bytes (tests); default `crypto.randomBytes`.
 */
export async function createEnrollmentToken(
  deps: LifecycleDeps,
  config: Pick<LifecycleConfig, 'enrollmentTokenTtlMs'>,
  actor: Actor,
  agentId: string,
  random?: (size: number) => Uint8Array,
): Promise<CertOutcome<EnrollmentTokenGrant>> {
  const token = newEnrollmentToken(random);
  const expiresAt = enrollmentTokenExpiry(deps.clock.now(), config.enrollmentTokenTtlMs).toISOString();
  const created = await deps.store.transaction(async (tx) => {
    const outcome = await tx.enrollmentTokens.create({
      tokenHash: hashEnrollmentToken(token),
      agentId,
      expiresAt,
      createdBy: actor.subject,
    });
    if (outcome.ok) {
      const after = { agentId, expiresAt, createdBy: actor.subject };
      tx.changes.append({ actor, action: 'enrollment-token.create', subjectKind: 'agent', subjectId: agentId, after, outcome: 'applied' });
    }
    return outcome;
  });
  if (!created.ok) {
    return created.code === 'DMR_CONTROL_NOT_FOUND'
      ? certRefusal('DMR_CONTROL_NOT_FOUND', `agent ${agentId} does not exist`, 'id')
      : certRefusal(created.code, created.message);
  }
  deps.log.info({ agentId, expiresAt, by: actor.subject }, 'enrollment token issued');
  return { ok: true, value: { token, expiresAt } };
}

/** What a server instance's or the relay user's token is for. */
export interface ServiceTokenRequest {
  readonly kind: ServiceSubjectKind;
  /** The server instance name, or the RabbitMQ user name (default `dmr-relay`) for `relay-user`. */
  readonly id: string;
  /** The server certificate's DNS names and IP addresses (at least one for `server`; none for `relay-user`). */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/**
 * Makes a token for a server instance or the relay user, valid `enrollmentTokenTtlMs`. The names the certificate
 * will carry are fixed now, by the admin, not by the CSR. Refusals: DMR_CA_INVALID_REQUEST naming `name`, `user`,
 * `dnsNames` or `ipAddresses`.
 */
export async function createServiceEnrollmentToken(
  deps: LifecycleDeps,
  config: Pick<LifecycleConfig, 'enrollmentTokenTtlMs' | 'agentCertValidityDays' | 'serverCertValidityDays'>,
  actor: Actor,
  request: ServiceTokenRequest,
  random?: (size: number) => Uint8Array,
): Promise<CertOutcome<EnrollmentTokenGrant>> {
  const checked = checkServiceRequest(request, config);
  if (!checked.ok) return checked;
  const token = newEnrollmentToken(random);
  const expiresAt = enrollmentTokenExpiry(deps.clock.now(), config.enrollmentTokenTtlMs).toISOString();
  const input = {
    tokenHash: hashEnrollmentToken(token),
    subjectKind: request.kind,
    subjectId: request.id,
    ...checked.value,
    expiresAt,
    createdBy: actor.subject,
  };
  const created = await deps.store.transaction(async (tx) => {
    const outcome = await tx.serviceTokens.create(input);
    if (outcome.ok) {
      const after = { subjectKind: request.kind, subjectId: request.id, ...checked.value, expiresAt, createdBy: actor.subject };
      tx.changes.append({
        actor,
        action: 'enrollment-token.create',
        subjectKind: request.kind,
        subjectId: request.id,
        after,
        outcome: 'applied',
      });
    }
    return outcome;
  });
  if (!created.ok) return certRefusal(created.code, created.message);
  deps.log.info({ subjectKind: request.kind, subjectId: request.id, expiresAt, by: actor.subject }, 'enrollment token issued');
  return { ok: true, value: { token, expiresAt } };
}

function checkServiceRequest(
  request: ServiceTokenRequest,
  config: Pick<LifecycleConfig, 'agentCertValidityDays' | 'serverCertValidityDays'>,
): CertOutcome<{ dnsNames: string[]; ipAddresses: string[] }> {
  const idField = request.kind === 'server' ? 'name' : 'user';
  if (!isIdentityId(request.kind, request.id))
    return certRefusal('DMR_CA_INVALID_REQUEST', `"${request.id}" is not a valid ${idField}`, idField);
  const names = { dnsNames: [...(request.dnsNames ?? [])], ipAddresses: [...(request.ipAddresses ?? [])] };
  if (request.kind === 'server' && names.dnsNames.length + names.ipAddresses.length === 0) {
    return certRefusal('DMR_CA_INVALID_REQUEST', 'a server certificate needs at least one DNS name or IP address', 'dnsNames');
  }
  if (request.kind === 'relay-user' && names.dnsNames.length + names.ipAddresses.length > 0) {
    return certRefusal('DMR_CA_INVALID_REQUEST', 'the relay user certificate carries no DNS names or IP addresses', 'dnsNames');
  }
  try {
    // the profile's own checks (DNS label syntax, IP addresses, reserved names), made now so a bad token is never handed out
    const { profile } = issuingTermsFor({ kind: request.kind, id: request.id }, config, names);
    return { ok: true, value: { dnsNames: [...profile.dnsNames], ipAddresses: [...profile.ipAddresses] } };
  } catch (error) {
    if (!(error instanceof DmrError)) throw error;
    const field = /IP address/.test(error.message) ? 'ipAddresses' : /DNS/.test(error.message) ? 'dnsNames' : idField;
    return certRefusal('DMR_CA_INVALID_REQUEST', error.message, field);
  }
}
