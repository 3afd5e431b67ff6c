import { readFileSync } from 'node:fs';
import { type Env, EnvReader, isAgentId, type LogLevel, parseLogLevels, readControlEndpoint } from '@dmr/shared';
import type { EnrollmentKeyType, EnrollmentPlan } from '@dmr/shared/certs';
import { readConfiguredFile } from './config-files.js';

/** What enrollment at start needs: the plan and the log level of its log lines. */
export interface EnrollmentSettings {
  readonly plan: EnrollmentPlan;
  readonly logLevel: LogLevel;
}

// the names of @dmr/shared/certs ENROLLMENT_KEY_TYPES, repeated so reading the config does not load that module
const KEY_TYPES: readonly EnrollmentKeyType[] = ['ec-p256', 'rsa-3072'];

/**
 * Reads what enrollment needs before the rest of the configuration, whose files (key, certificate, CA bundle) may
 * not exist yet (issue 18). Undefined when the agent does not enroll: no `DMR_CONTROL_URL`, or a key given inline
 * (`AGENT_PRIVATE_KEY`, which the agent cannot write). Requires `AGENT_ID`, `AGENT_PRIVATE_KEY_FILE` (where the
 * generated key goes) and `DMR_TLS_CERT_FILE` (where the certificate goes); `DMR_TLS_KEY_FILE`, if set, must name
 * the same file to enroll (the certificate is for the agent's own key: another key file means a client certificate
 * that is renewed, never enrolled); `DMR_TLS_CA_FILE`, if set, receives the CA bundle.
 * Throws DMR_CONFIG_INVALID naming each bad variable.
 */
export function loadEnrollmentSettings(env: Env, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')) {
  const reader = new EnvReader(env);
  const control = readControlEndpoint(reader);
  const token = reader.optionalString('DMR_ENROLLMENT_TOKEN');
  const keyType = readKeyType(reader);
  const keyFile = reader.optionalString('AGENT_PRIVATE_KEY_FILE');
  if (!control || reader.optionalString('AGENT_PRIVATE_KEY') !== undefined) {
    if (token !== undefined) reader.problem(tokenWithoutEnrollment(control !== undefined));
    reader.finish();
    return undefined;
  }
  const agentId = reader.requiredString('AGENT_ID');
  if (agentId && !isAgentId(agentId)) reader.problem('AGENT_ID must be 1-128 letters, digits, "-" or "_" starting with a letter or digit');
  if (keyFile === undefined) reader.problem('DMR_CONTROL_URL: AGENT_PRIVATE_KEY_FILE is required (where the agent keeps its key)');
  const certFile = reader.optionalString('DMR_TLS_CERT_FILE');
  if (certFile === undefined) reader.problem('DMR_CONTROL_URL: DMR_TLS_CERT_FILE is required (where the agent keeps its certificate)');
  const tlsKeyFile = reader.optionalString('DMR_TLS_KEY_FILE');
  if (tlsKeyFile !== undefined && keyFile !== undefined && tlsKeyFile !== keyFile) {
    // a client certificate for a key of its own (as dmrctl issued them before enrollment) is renewed, never enrolled
    if (token === undefined) {
      reader.finish();
      return undefined;
    }
    reader.problem('DMR_TLS_KEY_FILE must be AGENT_PRIVATE_KEY_FILE (or unset) to enroll: the certificate is for the agent key');
  }
  const ca = control.caFile === undefined ? undefined : readConfiguredFile(reader, readFile, 'DMR_CONTROL_CA_FILE', control.caFile);
  const logLevel = parseLogLevels(reader.string('LOGGER_LOG_LEVELS', 'error,warn,log')) ?? 'info';
  reader.finish();
  const paths = { certFile: certFile as string, keyFile: keyFile as string, caFile: reader.optionalString('DMR_TLS_CA_FILE') };
  const plan: EnrollmentPlan = { agentId, token, control: { url: control.url, ca }, paths, keyType };
  return { plan, logLevel } satisfies EnrollmentSettings;
}

function readKeyType(reader: EnvReader): EnrollmentKeyType {
  const value = reader.string('DMR_ENROLLMENT_KEY_TYPE', 'ec-p256').toLowerCase();
  const keyType = KEY_TYPES.find((type) => type === value);
  if (keyType === undefined) reader.problem(`DMR_ENROLLMENT_KEY_TYPE must be ${KEY_TYPES.join(' or ')}, got "${value.slice(0, 40)}"`);
  return keyType ?? 'ec-p256';
}

function tokenWithoutEnrollment(hasControl: boolean): string {
  return hasControl
    ? 'DMR_ENROLLMENT_TOKEN needs the key in AGENT_PRIVATE_KEY_FILE (the agent writes its generated key there), not AGENT_PRIVATE_KEY'
    : 'DMR_ENROLLMENT_TOKEN is set but DMR_CONTROL_URL is not: set the URL of dmr-control to enroll with the token';
}
