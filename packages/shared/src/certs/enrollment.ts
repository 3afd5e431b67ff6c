import { backoffDelayMs } from '../backoff.js';
import { agentIdFromSubjectAltName } from '../crypto/certificate-identity.js';
import { DmrError, toDmrError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { describeErrors } from '../result.js';
import { type CertificatePaths, fileExists, KEY_FILE_MODE, readMaterial, writeFileAtomically, writeIssued } from './cert-files.js';
import { type CertificateFacts, type CertificateMaterial, inspectMaterial, publicKeyFingerprint } from './certificate-material.js';
import { ControlError, type ControlTarget, enrollAtControl, type IssuedCertificate } from './control-client.js';
import { agentEnrollmentCsr, type CsrKeys } from './csr.js';
import { type EnrollmentKeyType, generateKeys, keysOf } from './key-pairs.js';

/** What an agent needs to enroll (parsed configuration). */
export interface EnrollmentPlan {
  readonly agentId: string;
  /** The one-time token (`DMR_ENROLLMENT_TOKEN`); undefined = enrollment only possible with a usable certificate on disk. */
  readonly token: string | undefined;
  readonly control: ControlTarget;
  /** Certificate, key (the agent's own key: `AGENT_PRIVATE_KEY_FILE`) and CA bundle files. */
  readonly paths: CertificatePaths;
  /** Key type generated when there is no key yet (`DMR_ENROLLMENT_KEY_TYPE`). */
  readonly keyType: EnrollmentKeyType;
}

/** The injectable parts of enrollment. */
export interface EnrollmentDeps {
  readonly log: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
  /** How long transient failures (dmr-control unreachable) are retried, ms (default 60 s). */
  readonly retryForMs?: number;
  /** Pause between retries (tests shorten it). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What {@link ensureEnrolled} did. */
export type EnrollmentOutcome =
  | { readonly action: 'kept'; readonly facts: CertificateFacts }
  | { readonly action: 'enrolled'; readonly facts: CertificateFacts; readonly isKeyNew: boolean };

const RETRY = { initialDelayMs: 500, maxDelayMs: 10_000 };

/**
 * Makes sure the agent has a usable key and certificate before it starts (issue 18): a valid certificate for
 * `agentId` whose key is on disk is kept (a token given as well is ignored, and logged); otherwise the agent enrolls
 * with the token: it keeps its key when it has one (re-enrollment after a lost certificate keeps queued messages
 * decryptable), else generates one locally and writes it 0600 before anything is sent; it sends a CSR, checks the
 * answer (same key, its own identity, valid now) and writes certificate and CA bundle. The key never leaves the process.
 * Throws DMR_CONFIG_INVALID (no usable certificate and no token; an unreadable key file), DMR_CERT_ENROLLMENT_REFUSED,
 * DMR_CERT_CONTROL_UNREACHABLE (after retrying for `retryForMs`), DMR_CERT_RESPONSE_INVALID, DMR_CERT_MATERIAL_INVALID.
 */
export async function ensureEnrolled(plan: EnrollmentPlan, deps: EnrollmentDeps): Promise<EnrollmentOutcome> {
  const now = deps.now ?? Date.now;
  const key = await readExistingKey(plan.paths.keyFile);
  const current = key ? await currentIdentity(plan, key, now()) : { usable: undefined, reason: 'no key yet' };
  if (current.usable) {
    if (plan.token !== undefined) {
      deps.log.info(
        { serial: current.usable.serial, notAfter: new Date(current.usable.notAfterMs).toISOString() },
        'DMR_ENROLLMENT_TOKEN ignored: a valid certificate and its key are already on disk',
      );
    }
    return { action: 'kept', facts: current.usable };
  }
  if (plan.token === undefined) {
    throw new DmrError(
      'DMR_CONFIG_INVALID',
      `invalid configuration: no usable certificate for agent ${plan.agentId} (${current.reason}) and DMR_ENROLLMENT_TOKEN is not set: ask an operator for an enrollment token (POST /v1/agents/{id}/enrollment-tokens) and start with it`,
    );
  }
  const keys = key ? keysOf(key) : await generateAndStoreKey(plan, deps.log);
  deps.log.info(
    { agentId: plan.agentId, reason: current.reason, controlUrl: plan.control.url, isKeyNew: !key },
    'enrolling with dmr-control',
  );
  const csr = await agentEnrollmentCsr(plan.agentId, keys);
  const issued = await withRetry(() => enrollAtControl(plan.control, plan.token as string, csr), deps).catch((error: unknown) => {
    throw withHint(error, plan.agentId);
  });
  const facts = checkIssued(plan.agentId, issued, keys, now());
  await writeIssued(plan.paths, issued);
  deps.log.info(
    { agentId: plan.agentId, serial: facts.serial, notAfter: new Date(facts.notAfterMs).toISOString(), certFile: plan.paths.certFile },
    'enrolled: certificate written',
  );
  return { action: 'enrolled', facts, isKeyNew: !key };
}

async function readExistingKey(keyFile: string): Promise<string | undefined> {
  if (!(await fileExists(keyFile))) return undefined;
  const { key } = await readMaterial({ certFile: keyFile, keyFile });
  try {
    keysOf(key);
  } catch (error) {
    // never overwrite a key file that holds something: it may be the only copy of a key in use
    throw new DmrError(
      'DMR_CONFIG_INVALID',
      `invalid configuration: AGENT_PRIVATE_KEY_FILE "${keyFile}" holds no usable private key (${toDmrError(error).message}); remove it to let the agent generate a new one`,
    );
  }
  return key;
}

async function currentIdentity(
  plan: EnrollmentPlan,
  key: string,
  nowMs: number,
): Promise<{ usable: CertificateFacts | undefined; reason: string }> {
  if (!(await fileExists(plan.paths.certFile))) return { usable: undefined, reason: `no certificate at "${plan.paths.certFile}"` };
  const { certificate } = await readMaterial({ certFile: plan.paths.certFile, keyFile: plan.paths.keyFile });
  const checked = inspectMaterial({ certificate, key }, nowMs);
  if (!checked.ok) return { usable: undefined, reason: `certificate at "${plan.paths.certFile}": ${describeErrors(checked.errors)}` };
  const named = agentIdFromSubjectAltName(checked.value.subjectAltName ?? '');
  if (named !== plan.agentId) return { usable: undefined, reason: `the certificate on disk is for agent ${named ?? '(none)'}` };
  return { usable: checked.value, reason: 'valid' };
}

async function generateAndStoreKey(plan: EnrollmentPlan, log: Logger): Promise<CsrKeys> {
  const keys = await generateKeys(plan.keyType);
  const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // written before the CSR leaves: a certificate issued for a key that a crash lost would be of no use
  await writeFileAtomically(plan.paths.keyFile, pem, KEY_FILE_MODE);
  log.info({ keyType: plan.keyType, keyFile: plan.paths.keyFile }, 'generated a new key pair (private key written 0600)');
  return keys;
}

/** The answer must be a certificate for this agent and this key, valid now; nothing is written otherwise. */
function checkIssued(agentId: string, issued: IssuedCertificate, keys: CsrKeys, nowMs: number): CertificateFacts {
  const material: CertificateMaterial = {
    certificate: issued.certificate,
    key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ...(issued.caCertificates === '' ? {} : { ca: issued.caCertificates }),
  };
  const checked = inspectMaterial(material, nowMs);
  if (!checked.ok)
    throw new DmrError('DMR_CERT_RESPONSE_INVALID', `dmr-control issued an unusable certificate: ${describeErrors(checked.errors)}`);
  const named = agentIdFromSubjectAltName(checked.value.subjectAltName ?? '');
  if (named !== agentId) {
    throw new DmrError('DMR_CERT_RESPONSE_INVALID', `dmr-control issued a certificate for agent ${named ?? '(none)'}, not ${agentId}`);
  }
  if (checked.value.publicKeySha256 !== publicKeyFingerprint(keys.publicKey)) {
    throw new DmrError('DMR_CERT_RESPONSE_INVALID', 'dmr-control issued a certificate for another key than the CSR');
  }
  return checked.value;
}

const NEW_TOKEN = 'ask an operator for a new enrollment token (POST /v1/agents/{id}/enrollment-tokens) and start with it';
const HINTS: Readonly<Record<string, string>> = {
  DMR_CONTROL_TOKEN_USED: `${NEW_TOKEN}; a token this agent did not use itself may have leaked`,
  DMR_CONTROL_TOKEN_EXPIRED: NEW_TOKEN,
  DMR_CONTROL_TOKEN_UNKNOWN: `${NEW_TOKEN} (check DMR_ENROLLMENT_TOKEN was copied whole)`,
};

/** A refusal with what the operator does next, by dmr-control's code. */
function withHint(error: unknown, agentId: string): unknown {
  if (!(error instanceof ControlError) || error.code !== 'DMR_CERT_ENROLLMENT_REFUSED') return error;
  const controlCode = error.refusal?.controlCode ?? '';
  const hint =
    HINTS[controlCode] ?? (controlCode === 'DMR_CONTROL_CSR_SUBJECT_MISMATCH' ? `is the token for AGENT_ID ${agentId}?` : undefined);
  return hint === undefined ? error : new ControlError(error.code, `${error.message}: ${hint}`, error.refusal, error);
}

/** Retries transient failures (dmr-control unreachable) with backoff for `retryForMs`; refusals end at once. */
async function withRetry<T>(call: () => Promise<T>, deps: EnrollmentDeps): Promise<T> {
  const now = deps.now ?? Date.now;
  const deadline = now() + (deps.retryForMs ?? 60_000);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const failure = toDmrError(error);
      const delayMs = backoffDelayMs(attempt, RETRY, deps.random);
      if (failure.code !== 'DMR_CERT_CONTROL_UNREACHABLE' || now() + delayMs > deadline) throw failure;
      deps.log.warn({ code: failure.code, reason: failure.message, attempt, delayMs }, 'enrollment attempt failed; retrying');
      await sleep(delayMs);
    }
  }
}
