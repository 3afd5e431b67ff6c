import { createLogger, type Env, type Logger, toDmrError } from '@dmr/shared';
import { type EnrollmentDeps, type EnrollmentOutcome, ensureEnrolled } from '@dmr/shared/certs';
import { loadEnrollmentSettings } from '../config/index.js';

/** Optional collaborators of {@link prepareAgentCertificate}. */
export interface PrepareDeps extends Partial<Omit<EnrollmentDeps, 'log'>> {
  /** Root logger (default: JSON lines on stdout at `LOGGER_LOG_LEVELS`). */
  readonly logger?: Logger;
  /** File reader for `DMR_CONTROL_CA_FILE` (default: the file system). */
  readonly readFile?: (path: string) => string;
}

/**
 * Step 0 of an agent's start (issue 18), before `loadAgentConfig` reads the key and certificate files: with
 * `DMR_CONTROL_URL` and `AGENT_PRIVATE_KEY_FILE` it makes sure a usable certificate is on disk, enrolling with
 * `DMR_ENROLLMENT_TOKEN` when there is none (see `ensureEnrolled`). Resolves with what it did, or undefined when
 * the agent does not enroll. Throws DMR_CONFIG_INVALID, DMR_CERT_ENROLLMENT_REFUSED, DMR_CERT_CONTROL_UNREACHABLE,
 * DMR_CERT_RESPONSE_INVALID or DMR_CERT_MATERIAL_INVALID; {@link enrollmentExitCode} maps them to an exit code.
 */
export async function prepareAgentCertificate(env: Env, deps: PrepareDeps = {}): Promise<EnrollmentOutcome | undefined> {
  const settings = deps.readFile ? loadEnrollmentSettings(env, deps.readFile) : loadEnrollmentSettings(env);
  if (!settings) return undefined;
  const root = deps.logger ?? createLogger({ name: 'dmr-agent', level: settings.logLevel });
  const log = root.child({ component: 'enrollment', agentId: settings.plan.agentId });
  const { logger: _logger, readFile: _readFile, ...enrollment } = deps;
  return ensureEnrolled(settings.plan, { ...enrollment, log });
}

/**
 * Exit code of a failed {@link prepareAgentCertificate}: 2 when the operator must act (a configuration error, a token
 * dmr-control refused: unknown, used or expired, or a CSR it refused), 1 for what may pass (dmr-control unreachable).
 */
export function enrollmentExitCode(error: unknown): number {
  const { code } = toDmrError(error);
  return code === 'DMR_CONFIG_INVALID' || code === 'DMR_CERT_ENROLLMENT_REFUSED' ? 2 : 1;
}
