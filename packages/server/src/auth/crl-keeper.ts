import { readFile } from 'node:fs/promises';
import { DmrError, type DmrErrorCode, type Logger, toDmrError } from '@dmr/shared';
import { type CrlHealth, type CrlSnapshot, crlHealth, judgeCrlSuccession, readCrl } from '@dmr/shared/pki';
import type { TlsConfig } from '../config/index.js';
import { type CertificateVerdict, judgeCertificate, type PeerIdentity } from './certificate-guard.js';
import type { CrlMetrics } from './crl-metrics.js';

/** What the guard tells the rest of the server when the CRL in force changes. */
export interface CertificateGuardHooks {
  /** New connections: reload the TLS context with this CRL. May throw (the CRL then does not come into force). */
  readonly applyCrl: (crlPem: string) => void;
  /** Live connections: re-check them now. */
  readonly recheck: () => void;
}

/** The CRL state for `/v1/ready`: agents can connect only while it is usable. */
export interface CrlReadiness {
  readonly health: CrlHealth;
  /** False while OpenSSL refuses every client certificate (the CRL in force is expired or not yet valid). */
  readonly isUsable: boolean;
  /** Why, for operators (set when not usable or expiring). */
  readonly detail: string | undefined;
}

/**
 * Keeps the CRL in force (issue 15, finding 5, docs/security.md "CRL lifecycle"). It re-reads the CRL file
 * every `crlReloadIntervalMs` and takes a new CRL only when it names the agent CA (`DMR_TLS_CA_FILE`) as
 * issuer, carries that CA's signature, is inside its window and is not older than the one in force;
 * otherwise it logs and counts the refusal and the last good CRL stays. New connections get the CRL through
 * the TLS context, live ones through `recheck` (which also catches certificates that expired).
 * It warns `crlWarnBeforeMs` ahead of the CRL's nextUpdate, exports nextUpdate as a metric, and reports
 * not-usable (so `/v1/ready` says not-ready) once the CRL in force has expired: OpenSSL then refuses every agent.
 */
export class CertificateGuard {
  #crl: CrlSnapshot | undefined;
  #crlPem: string | undefined;
  #refused: { pem: string; code: DmrErrorCode } | undefined;
  #health: CrlHealth = 'none';
  #timer: NodeJS.Timeout | undefined;
  #isTicking = false;

  constructor(
    private readonly config: TlsConfig,
    private readonly hooks: CertificateGuardHooks,
    private readonly log: Logger,
    private readonly metrics: CrlMetrics,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Serials on the CRL in force. */
  get revoked(): ReadonlySet<string> {
    return this.#crl?.revokedSerials ?? new Set();
  }

  /** The CRL PEM in force. */
  get crlPem(): string | undefined {
    return this.#crlPem;
  }

  /**
   * Loads and verifies the configured CRL, puts it in force, then polls. A CRL that fails verification at start
   * throws DMR_CONFIG_INVALID naming DMR_TLS_CRL_FILE (exit code 2); an expired one is taken (there is nothing
   * better, and leaving it out would accept revoked certificates) and reported not-ready.
   */
  async start(): Promise<void> {
    if (this.config.crlFile) {
      const pem = await readFile(this.config.crlFile, 'utf8').catch((error: unknown) => {
        throw configError(this.config.crlFile, error);
      });
      const snapshot = await readCrl(pem, await readFile(this.config.caFile, 'utf8')).catch((error: unknown) => {
        throw configError(this.config.crlFile, error);
      });
      this.#putInForce(pem, snapshot);
    }
    this.#checkHealth();
    this.#timer = setInterval(() => void this.#tick(), this.config.crlReloadIntervalMs);
    this.#timer.unref();
  }

  /** Stops polling. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Judges a connection's peer now against the CRL in force. */
  judge(peer: PeerIdentity | undefined): CertificateVerdict {
    return judgeCertificate(peer, this.revoked, this.now());
  }

  /** The CRL's state for readiness. */
  readiness(): CrlReadiness {
    const health = crlHealth(this.#crl, this.now(), this.config.crlWarnBeforeMs);
    const isUsable = health !== 'expired' && health !== 'not-yet-valid';
    return { health, isUsable, detail: health === 'none' || health === 'current' ? undefined : this.#describe(health) };
  }

  async #tick(): Promise<void> {
    // verification is asynchronous: a slow tick must not overlap the next one (two CRLs judged against one in force)
    if (this.#isTicking) return;
    this.#isTicking = true;
    try {
      if (this.config.crlFile) await this.#reload(this.config.crlFile);
      this.#checkHealth();
      this.hooks.recheck();
    } catch (error) {
      // a timer callback: nothing above it would catch this, and an unhandled rejection must not end the process
      this.log.error({ err: toDmrError(error) }, 'CRL reload or certificate re-check failed; the CRL in force stays');
    } finally {
      this.#isTicking = false;
    }
  }

  async #reload(file: string): Promise<void> {
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (error) {
      const reason = `cannot read the CRL file: ${toDmrError(error).message}`;
      // keyed by the reason, so a file that stays missing is logged once, not every interval
      this.#refuse(file, 'DMR_CA_IO_FAILED', reason, `unreadable: ${reason}`);
      return;
    }
    if (this.#refused?.code === 'DMR_CA_IO_FAILED') this.#refused = undefined;
    if (pem === this.#crlPem) return;
    // a permanent refusal of this exact file is not re-judged every tick; a not-yet-valid one is (clocks catch up)
    if (this.#refused?.pem === pem && this.#refused.code !== 'DMR_CA_CRL_NOT_YET_VALID') return;
    try {
      const snapshot = await readCrl(pem, await readFile(this.config.caFile, 'utf8'));
      const succession = judgeCrlSuccession(snapshot, this.#crl, this.now());
      if (!succession.ok) {
        this.#refuse(file, succession.code, succession.reason, pem);
        return;
      }
      this.#putInForce(pem, snapshot);
      this.log.info({ crlNumber: snapshot.crlNumber?.toString(), revoked: snapshot.revokedSerials.size }, 'CRL reloaded');
    } catch (error) {
      const dmrError = toDmrError(error);
      this.#refuse(file, dmrError.code, dmrError.message, pem);
    }
  }

  /** Logs and counts a refusal once per distinct file content (`pem`) and code. */
  #refuse(file: string, code: DmrErrorCode, reason: string, pem: string): void {
    const isRepeat = this.#refused?.pem === pem && this.#refused.code === code;
    this.#refused = { pem, code };
    if (isRepeat) return;
    this.metrics.refusalsTotal.inc({ code });
    this.log.error(
      { code, reason, file, crlNumberInForce: this.#crl?.crlNumber?.toString() },
      'CRL refused; the CRL in force stays (publish a valid CRL from the agent CA)',
    );
  }

  #putInForce(pem: string, snapshot: CrlSnapshot): void {
    // the TLS context first: if it cannot take the CRL, the old one stays in force everywhere
    this.hooks.applyCrl(pem);
    this.#crl = snapshot;
    this.#crlPem = pem;
    this.#refused = undefined;
    if (snapshot.nextUpdate) this.metrics.nextUpdate.set(snapshot.nextUpdate.getTime() / 1000);
    else this.metrics.nextUpdate.reset();
    if (snapshot.crlNumber !== undefined) this.metrics.crlNumber.set(Number(snapshot.crlNumber));
  }

  /** Logs each change of the CRL's health once: a warning ahead of nextUpdate, an error once it has passed. */
  #checkHealth(): void {
    const health = crlHealth(this.#crl, this.now(), this.config.crlWarnBeforeMs);
    if (health === this.#health) return;
    this.#health = health;
    const fields = { health, nextUpdate: this.#crl?.nextUpdate?.toISOString(), crlNumber: this.#crl?.crlNumber?.toString() };
    if (health === 'expiring') this.log.warn(fields, this.#describe(health));
    else if (health === 'expired' || health === 'not-yet-valid') this.log.error(fields, this.#describe(health));
    else if (health === 'current') this.log.info(fields, 'CRL in force is current');
  }

  #describe(health: CrlHealth): string {
    const next = this.#crl?.nextUpdate?.toISOString() ?? 'never';
    switch (health) {
      case 'expiring':
        return `CRL in force expires at ${next}: publish a new CRL to DMR_TLS_CRL_FILE before then, or TLS refuses every agent`;
      case 'expired':
        return `CRL in force expired at ${next}: TLS refuses every agent certificate until a new CRL is published to DMR_TLS_CRL_FILE`;
      case 'not-yet-valid':
        return `CRL in force is valid only from ${this.#crl?.thisUpdate.toISOString()}: TLS refuses every agent certificate until then`;
      default:
        return `CRL ${health}`;
    }
  }
}

function configError(file: string | undefined, error: unknown): DmrError {
  return new DmrError('DMR_CONFIG_INVALID', `invalid configuration: DMR_TLS_CRL_FILE: "${file}": ${toDmrError(error).message}`, {
    cause: error,
  });
}
