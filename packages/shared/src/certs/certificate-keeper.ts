import { readFile } from 'node:fs/promises';
import { DmrError, type DmrErrorCode, toDmrError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { pemCertificates } from '../pki/pem-bundle.js';
import { describeErrors } from '../result.js';
import { PUBLIC_FILE_MODE, readMaterial, writeFileAtomically, writeIssued } from './cert-files.js';
import { type CertificateFacts, type CertificateMaterial, inspectMaterial } from './certificate-material.js';
import { type CaBundle, fetchCaBundle, type IssuedCertificate, renewAtControl } from './control-client.js';
import { renewalCsr } from './csr.js';
import type { KeeperConfig, KeeperDeps, KeeperState, RenewalConfig } from './keeper-config.js';
import { keysOf } from './key-pairs.js';
import { checkRenewed } from './renewal-check.js';
import { nextRenewalAttemptMs } from './renewal-schedule.js';
import { hasIssuerIn, isFromOtherCa, isSameBundle } from './trust-bundle.js';

// setTimeout holds at most 2^31-1 ms (24.8 days); a longer wait is cut into hours and re-planned on each wake-up
const MAX_SLEEP_MS = 3_600_000;

/**
 * Keeps one TLS identity current (issue 18): re-reads its files every `reloadIntervalMs` and puts changed, usable
 * material in force through `apply` (any CA: an operator or cert-manager rotates the files), and, with dmr-control,
 * renews the certificate over mTLS at `fraction` of its lifetime with the same key pair, retrying with backoff and
 * jitter until it expires. One piece of work runs at a time; `stop()` awaits it. Never logs a key.
 */
export class CertificateKeeper {
  readonly #config: KeeperConfig;
  readonly #deps: KeeperDeps;
  readonly #now: () => number;
  #state: KeeperState = 'idle';
  #material: CertificateMaterial;
  #facts: CertificateFacts;
  #failedAttempts = 0;
  #pollTimer: NodeJS.Timeout | undefined;
  #trustTimer: NodeJS.Timeout | undefined;
  // the last trust refresh failure, so a control plane that stays down is one log line
  #trustFailure: string | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  // the one piece of work in progress (a poll or a renewal)
  #work: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  // files last refused, so a bad set on disk is logged once, not every interval
  #refusedKey: string | undefined;
  #isExpiryLogged = false;
  // the material whose apply failed last, so a failure that repeats on every poll is logged once
  #applyFailedKey: string | undefined;
  #isPollQueued = false;

  /** `initial` is what the component was built with (checked: {@link inspectMaterial}). */
  constructor(config: KeeperConfig, initial: { material: CertificateMaterial; facts: CertificateFacts }, deps: KeeperDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#material = initial.material;
    this.#facts = initial.facts;
  }

  get state(): KeeperState {
    return this.#state;
  }

  /** The certificate in force. */
  get facts(): CertificateFacts {
    return this.#facts;
  }

  /** The material in force (PEM texts; the key is for TLS clients of this identity, never for logs). */
  get material(): CertificateMaterial {
    return this.#material;
  }

  /** Starts polling the files and, with dmr-control, the renewal timer and the trust refresh (one read at once). Idempotent. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#deps.observer.expiry(this.#facts.notAfterMs / 1000);
    this.#pollTimer = setInterval(() => this.#schedulePoll(), this.#config.reloadIntervalMs);
    this.#pollTimer.unref();
    const trust = this.#config.trust;
    if (trust && trust.intervalMs > 0) {
      this.#trustTimer = setInterval(() => void this.refreshTrust(), trust.intervalMs);
      this.#trustTimer.unref();
    }
    this.#planRenewal();
    // once at start: a process that was down during a change-over step catches up now, not an interval later
    if (trust) void this.refreshTrust();
  }

  /** Stops both timers and waits for the work in progress. Memoised. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** Compares the files with the material in force now (tests, SIGHUP); resolves once done. */
  checkFilesNow(): Promise<void> {
    return this.#enqueue(() => this.#poll());
  }

  /** Renews now, whatever the schedule says (tests, operators); resolves once the attempt ended. */
  renewNow(): Promise<void> {
    return this.#enqueue(() => this.#renew());
  }

  /**
   * Reads dmr-control's trusted CA bundle now: a changed bundle is written to the CA file and put in force (new
   * handshakes trust old and new CA during a change-over; a retired CA is trusted no more), and a certificate that is
   * not from the CA dmr-control signs with now is renewed onto it. Resolves once done (never rejects); a no-op
   * without {@link KeeperConfig.trust}.
   */
  refreshTrust(): Promise<void> {
    return this.#enqueue(() => this.#refreshTrust());
  }

  /** One poll waits in line at most: a slow renewal or reconnect must not pile up a poll per interval behind it. */
  #schedulePoll(): void {
    if (this.#isPollQueued) return;
    this.#isPollQueued = true;
    void this.#enqueue(async () => {
      this.#isPollQueued = false;
      await this.#poll();
    });
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    clearInterval(this.#pollTimer);
    clearInterval(this.#trustTimer);
    clearTimeout(this.#renewTimer);
    await this.#work;
    this.#state = 'stopped';
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#work.then(async () => {
      if (this.#state !== 'running') return;
      try {
        await task();
      } catch (error) {
        // a timer's work: nothing above would catch it, and the identity in force must stay usable
        this.#log().error({ err: toDmrError(error) }, 'certificate upkeep failed; the certificate in force stays');
      }
    });
    this.#work = run;
    return run;
  }

  async #poll(): Promise<void> {
    const files = await readMaterial(this.#config.paths).catch((error: unknown) => toDmrError(error));
    if (files instanceof DmrError) {
      this.#refuse(files.message, 'DMR_CERT_MATERIAL_INVALID', files.message);
      return;
    }
    if (sameMaterial(files, this.#material)) {
      this.#refusedKey = undefined;
      return;
    }
    const checked = inspectMaterial(files, this.#now());
    if (!checked.ok) {
      this.#refuse(contentKey(files), checked.code, describeErrors(checked.errors));
      return;
    }
    await this.#putInForce(files, checked.value, 'files changed on disk');
  }

  async #refreshTrust(): Promise<void> {
    const trust = this.#config.trust;
    const caFile = this.#config.paths.caFile;
    if (!trust || caFile === undefined) return;
    let bundle: CaBundle;
    try {
      const ca = trust.control.caFile === undefined ? undefined : await readFile(trust.control.caFile, 'utf8');
      bundle = await fetchCaBundle({ url: trust.control.url, ca });
    } catch (error) {
      this.#onTrustFailed(toDmrError(error));
      return;
    }
    if (this.#trustFailure !== undefined) this.#log().info('dmr-control CA bundle readable again');
    this.#trustFailure = undefined;
    if (!isSameBundle(bundle.pem, this.#material.ca)) {
      if (!(await this.#putBundleInForce(caFile, bundle))) return;
    }
    if (this.#config.renewal && isFromOtherCa(this.#facts, bundle)) {
      this.#log().info(
        { serial: this.#facts.serial, issuer: this.#facts.leaf.issuer, activeCa: bundle.activeCaSha256 },
        'dmr-control signs with another CA now: renewing onto it',
      );
      await this.#renew();
    }
  }

  /** Writes and applies a new trust bundle; false when it could not be put in force (the one in force stays). */
  async #putBundleInForce(caFile: string, bundle: CaBundle): Promise<boolean> {
    const material = { ...this.#material, ca: bundle.pem };
    const checked = inspectMaterial(material, this.#now());
    if (!checked.ok) {
      this.#refuse(contentKey(material), checked.code, describeErrors(checked.errors));
      return false;
    }
    if (!hasIssuerIn(this.#facts.leaf, bundle.pem)) {
      this.#log().warn(
        { serial: this.#facts.serial, issuer: this.#facts.leaf.issuer },
        'the CA of the certificate in force is no longer in dmr-control’s bundle (retired): peers that follow the bundle will refuse it until it is renewed',
      );
    }
    await writeFileAtomically(caFile, bundle.pem, PUBLIC_FILE_MODE);
    await this.#putInForce(material, checked.value, 'CA bundle changed at dmr-control');
    return this.#material === material;
  }

  #onTrustFailed(failure: DmrError): void {
    if (this.#trustFailure === failure.message) return;
    this.#trustFailure = failure.message;
    this.#log().warn({ code: failure.code, reason: failure.message }, 'dmr-control CA bundle not read; the trusted CAs in force stay');
  }

  /** Applies `material`; on success it is in force and the renewal is planned from it; on failure the old one stays. */
  async #putInForce(material: CertificateMaterial, facts: CertificateFacts, why: string): Promise<void> {
    const previous = this.#facts;
    try {
      await this.#deps.apply(material, facts);
    } catch (error) {
      this.#onApplyFailed(material, facts, toDmrError(error));
      return;
    }
    this.#material = material;
    this.#facts = facts;
    this.#refusedKey = undefined;
    this.#applyFailedKey = undefined;
    this.#failedAttempts = 0;
    this.#isExpiryLogged = false;
    this.#deps.observer.reload('applied');
    this.#deps.observer.expiry(facts.notAfterMs / 1000);
    const isSameKey = facts.publicKeySha256 === previous.publicKeySha256;
    this.#log().info(
      { why, serial: facts.serial, previousSerial: previous.serial, notAfter: iso(facts.notAfterMs), isSameKey },
      'certificate reloaded',
    );
    this.#planRenewal();
  }

  /** Counted every time; logged as an error once per content, then at debug: every poll tries again. */
  #onApplyFailed(material: CertificateMaterial, facts: CertificateFacts, failure: DmrError): void {
    this.#deps.observer.reload('failed');
    const key = contentKey(material);
    const fields = { code: failure.code, reason: failure.message, serial: facts.serial, serialInForce: this.#facts.serial };
    const message = 'the new certificate could not be put in force; the one in force stays and the next check tries again';
    if (this.#applyFailedKey === key) this.#log().debug(fields, message);
    else this.#log().error(fields, message);
    this.#applyFailedKey = key;
  }

  #refuse(key: string, code: DmrErrorCode, reason: string): void {
    if (this.#refusedKey === key) return;
    this.#refusedKey = key;
    this.#deps.observer.reload('refused');
    this.#log().warn(
      { code, reason, files: this.#config.paths },
      'certificate files changed but are not usable; the certificate in force stays',
    );
  }

  #planRenewal(): void {
    clearTimeout(this.#renewTimer);
    const renewal = this.#config.renewal;
    if (!renewal || this.#state !== 'running') return;
    const { notBeforeMs, notAfterMs } = this.#facts;
    const nowMs = this.#now();
    const input = { notBeforeMs, notAfterMs, fraction: renewal.fraction, nowMs, failedAttempts: this.#failedAttempts };
    const atMs = nextRenewalAttemptMs({ ...input, ...(this.#deps.random ? { random: this.#deps.random } : {}) });
    if (atMs === undefined) {
      this.#logExpired();
      return;
    }
    const delayMs = Math.max(0, atMs - nowMs);
    this.#renewTimer = setTimeout(
      () => {
        if (delayMs > MAX_SLEEP_MS) this.#planRenewal();
        else void this.#enqueue(() => this.#renew());
      },
      Math.min(delayMs, MAX_SLEEP_MS),
    );
    this.#renewTimer.unref();
  }

  async #renew(): Promise<void> {
    const renewal = this.#config.renewal;
    if (!renewal) return;
    const current = this.#facts;
    const attempt = this.#failedAttempts + 1;
    this.#log().info({ serial: current.serial, notAfter: iso(current.notAfterMs), attempt }, 'renewing certificate with dmr-control');
    let renewed: { material: CertificateMaterial; facts: CertificateFacts };
    try {
      const issued = await this.#requestRenewal(renewal);
      const material = { certificate: issued.certificate, key: this.#material.key, ca: issued.caCertificates || this.#material.ca };
      renewed = { material, facts: checkRenewed(material, current, this.#now()) };
      await writeIssued(this.#config.paths, issued);
    } catch (error) {
      this.#onRenewalFailed(toDmrError(error), attempt);
      return;
    }
    this.#deps.observer.renewal('success');
    const { facts } = renewed;
    this.#log().info({ serial: facts.serial, previousSerial: current.serial, notAfter: iso(facts.notAfterMs) }, 'certificate renewed');
    // the files hold the new certificate now: if it cannot be put in force, every poll tries again until it can
    await this.#putInForce(renewed.material, facts, 'renewed');
  }

  async #requestRenewal({ control, caller }: RenewalConfig): Promise<IssuedCertificate> {
    const ca = control.caFile === undefined ? undefined : await readFile(control.caFile, 'utf8');
    const { certificate, key } = this.#material;
    const csr = await renewalCsr(certificate, keysOf(key));
    const target = { url: control.url, ca };
    return caller ? renewAtControl(target, csr, caller(), certificate) : renewAtControl(target, csr, { certificate, key });
  }

  #onRenewalFailed(failure: DmrError, attempt: number): void {
    this.#failedAttempts = attempt;
    this.#deps.observer.renewal(failure.code === 'DMR_CERT_RENEWAL_REFUSED' ? 'refused' : 'failed');
    const fields = { code: failure.code, reason: failure.message, attempt, notAfter: iso(this.#facts.notAfterMs) };
    this.#log().warn(fields, 'certificate renewal failed; the certificate in force stays and renewal is retried');
    this.#planRenewal();
  }

  #logExpired(): void {
    if (this.#isExpiryLogged) return;
    this.#isExpiryLogged = true;
    this.#log().error(
      { serial: this.#facts.serial, notAfter: iso(this.#facts.notAfterMs) },
      'certificate expired and was not renewed: put a new certificate in place (or re-enroll the agent with a new token)',
    );
  }

  #log(): Logger {
    return this.#deps.log;
  }
}

function sameMaterial(a: CertificateMaterial, b: CertificateMaterial): boolean {
  return contentKey(a) === contentKey(b);
}

/** The material as one string; the CA bundle in canonical form (a process may hold it re-written: one block per CA). */
function contentKey(material: CertificateMaterial): string {
  return `${material.certificate}\u0000${material.key}\u0000${pemCertificates(material.ca ?? '').join('')}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
