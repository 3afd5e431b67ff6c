// The certificate lifecycle's slice of dmr-control's configuration (conventions 8): read once from the env by the
// service's config reader, frozen, passed down. Units in the names.

import type { EnvReader } from '@dmr/shared';
import {
  DEFAULT_CRL_CHECK_INTERVAL_MS,
  DEFAULT_CRL_REPUBLISH_BEFORE_MS,
  DEFAULT_CRL_VALIDITY_MS,
  DEFAULT_ENROLLMENT_TOKEN_TTL_MS,
} from '../domain/index.js';

/** Default lifetime of agent certificates (days): short, because renewal is automatic. */
export const DEFAULT_AGENT_CERT_VALIDITY_DAYS = 90;
/** Default lifetime of server instance and relay-user certificates (days). */
export const DEFAULT_SERVER_CERT_VALIDITY_DAYS = 90;
/** What the certificate lifecycle is configured with (the CA directory, `DMR_CONTROL_CA_DIR`, is the service's). */
export interface LifecycleConfig {
  /** `DMR_CONTROL_ENROLLMENT_TOKEN_TTL_MS`, default 1 h. */
  readonly enrollmentTokenTtlMs: number;
  /** `DMR_CONTROL_AGENT_CERT_VALIDITY_DAYS`, default 90. */
  readonly agentCertValidityDays: number;
  /** `DMR_CONTROL_SERVER_CERT_VALIDITY_DAYS` (servers and the relay user), default 90. */
  readonly serverCertValidityDays: number;
  /** `DMR_CONTROL_CRL_VALIDITY_MS`: thisUpdate → nextUpdate, default 7 days. */
  readonly crlValidityMs: number;
  /** `DMR_CONTROL_CRL_REPUBLISH_BEFORE_MS`: sign anew once less than this is left, default 3.5 days. */
  readonly crlRepublishBeforeMs: number;
  /** `DMR_CONTROL_CRL_CHECK_INTERVAL_MS`: how often the service checks CRLs and re-reads ring.json, default 1 min. */
  readonly crlCheckIntervalMs: number;
}

const DAY_MS = 86_400_000;

/**
 * Reads the lifecycle's variables with `env` (problems are collected; the caller's `env.finish()` throws
 * DMR_CONFIG_INVALID naming each). The republish margin must be shorter than the CRL's validity, or every check
 * would sign a new CRL.
 */
export function readLifecycleConfig(env: EnvReader): LifecycleConfig {
  const crlValidityMs = env.int('DMR_CONTROL_CRL_VALIDITY_MS', { default: DEFAULT_CRL_VALIDITY_MS, min: 3_600_000, max: 366 * DAY_MS });
  const crlRepublishBeforeMs = env.int('DMR_CONTROL_CRL_REPUBLISH_BEFORE_MS', { default: DEFAULT_CRL_REPUBLISH_BEFORE_MS, min: 60_000 });
  if (crlRepublishBeforeMs >= crlValidityMs) {
    env.problem('DMR_CONTROL_CRL_REPUBLISH_BEFORE_MS must be less than DMR_CONTROL_CRL_VALIDITY_MS');
  }
  return Object.freeze({
    enrollmentTokenTtlMs: env.int('DMR_CONTROL_ENROLLMENT_TOKEN_TTL_MS', {
      default: DEFAULT_ENROLLMENT_TOKEN_TTL_MS,
      min: 60_000,
      max: 7 * DAY_MS,
    }),
    agentCertValidityDays: env.int('DMR_CONTROL_AGENT_CERT_VALIDITY_DAYS', { default: DEFAULT_AGENT_CERT_VALIDITY_DAYS, min: 1, max: 397 }),
    serverCertValidityDays: env.int('DMR_CONTROL_SERVER_CERT_VALIDITY_DAYS', {
      default: DEFAULT_SERVER_CERT_VALIDITY_DAYS,
      min: 1,
      max: 397,
    }),
    crlValidityMs,
    crlRepublishBeforeMs,
    crlCheckIntervalMs: env.int('DMR_CONTROL_CRL_CHECK_INTERVAL_MS', { default: DEFAULT_CRL_CHECK_INTERVAL_MS, min: 1000, max: DAY_MS }),
  });
}
