// Which profile, CA purpose and lifetime each identity kind gets. One place, so enrollment, renewal and operator
// issuing cannot drift apart.

import { agentProfile, type LeafProfile, relayUserProfile, serverInstanceProfile } from '../ca/index.js';
import type { CertificateIdentity, RingPurpose } from '../domain/index.js';
import type { LifecycleConfig } from './config.js';

/** Names a server certificate carries besides its identity URI. */
export interface ServerNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** Profile, purpose and validity for `identity`. Throws DMR_CA_INVALID_REQUEST for an id the profile refuses. */
export function issuingTermsFor(
  identity: CertificateIdentity,
  config: Pick<LifecycleConfig, 'agentCertValidityDays' | 'serverCertValidityDays'>,
  serverNames: ServerNames = { dnsNames: [], ipAddresses: [] },
): { readonly profile: LeafProfile; readonly purpose: RingPurpose; readonly validityDays: number } {
  if (identity.kind === 'agent') {
    return { profile: agentProfile(identity.id), purpose: 'agents', validityDays: config.agentCertValidityDays };
  }
  if (identity.kind === 'server') {
    return { profile: serverInstanceProfile(identity.id, serverNames), purpose: 'agents', validityDays: config.serverCertValidityDays };
  }
  // the relay's RabbitMQ login: only the broker CA, which RabbitMQ alone trusts, may sign it (issue 15 finding 9)
  return { profile: relayUserProfile(identity.id), purpose: 'broker', validityDays: config.serverCertValidityDays };
}
