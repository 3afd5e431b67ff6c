import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DmrError, type Logger, pemCertificates, type ReportedCrl, RunCoalescer, toDmrError } from '@dmr/shared';
import { type CrlHealth, readCrlBundle, trustedCas, type VerifiedCrl } from '@dmr/shared/pki';
import type { TlsConfig } from '../config/index.js';
import { type CertificateVerdict, judgeCertificate, type PeerIdentity } from './certificate-guard.js';
import { describeCrlHealth } from './crl-health-text.js';
import type { CrlMetrics } from './crl-metrics.js';
import { type CrlRefusal, type CrlSet, mergeCrlBundle, revokedSerialsOf, worstCrl } from './crl-set.js';
import { type CrlFetchOptions, type CrlSource, fileCrlSource, urlCrlSource } from './crl-source.js';

/** What the guard tells the rest of the server when the CRLs in force change. */
export interface CertificateGuardHooks {
  /** New connections: reload the TLS context with these CRLs (one per CA). May throw (the CRLs then do not come into force). */
  readonly applyCrl: (crlPems: readonly string[]) => void;
  /** Live connections: re-check them now. */
  readonly recheck: () => void;
  /** After new CRLs came into force (the server reports what it runs). */
  readonly onCrlsChanged?: () => void;
}

/** The CRL state for `/v1/ready`: agents can connect only while it is usable. */
export interface CrlReadiness {
  readonly health: CrlHealth;
  /** False while OpenSSL refuses every client certificate of a CA (its CRL in force is expired or not yet valid) or no CRL arrived yet from the URL. */
  readonly isUsable: boolean;
  /** Why, for operators (set when not usable or expiring). */
  readonly detail: string | undefined;
  /** With DMR_TLS_CRL_URL: whether the last fetch succeeded. */
  readonly fetch: 'ok' | 'failing' | undefined;
}

/** Options of {@link CertificateGuard}. */
export interface CertificateGuardOptions {
  readonly now?: () => Date;
  /** How DMR_TLS_CRL_URL is fetched (timeout, CA bundle). */
  readonly fetch?: CrlFetchOptions;
  /** Replaces the source the config names (tests). */
  readonly source?: CrlSource;
}

/** Least time between the starts of two reads of the CRL source, ms. */
const MIN_REFRESH_GAP_MS = 200;

/** Distinct refusals remembered so each is logged once; beyond this the memory starts over (a new line per refusal again). */
const MAX_REMEMBERED_REFUSALS = 256;

/**
 * Keeps the CRLs in force, one per CA of `DMR_TLS_CA_FILE` (docs/security.md "CRL lifecycle"; issue 18 for bundles and
 * the URL). The bundle comes from `DMR_TLS_CRL_FILE` (re-read every `crlReloadIntervalMs`) or `DMR_TLS_CRL_URL`
 * (fetched at start, every `crlFetchIntervalMs` and on {@link CertificateGuard.refresh}, which a `crl` push calls). Each
 * CRL must name a CA of the trust bundle, carry that CA's signature and not be older than the CA's CRL in force;
 * otherwise it is logged and counted and that CA's last good CRL stays. New connections get the CRLs through the TLS
 * context, live ones through `recheck` (which also catches expired certificates). A failed read keeps everything in force.
 * Until the first CRL arrived from the URL every certificate is refused (fail closed) and readiness says why.
 */
export class CertificateGuard {
  #set: CrlSet = new Map();
  #revoked: ReadonlySet<string> = new Set();
  #loggedHealth: CrlHealth = 'none';
  #timers: NodeJS.Timeout[] = [];
  #lastRead: Buffer | undefined;
  // SHA-256 fingerprints of the CAs of DMR_TLS_CA_FILE in force; undefined until read (no trust check of live sessions)
  #trustedCas: ReadonlySet<string> | undefined;
  #isRetryDue = false;
  #readFailure: string | undefined;
  readonly #loggedRefusals = new Set<string>();
  readonly #source: CrlSource | undefined;
  // spaced like the registry's fetches: a flood of `crl` announcements costs the control plane at most 5 reads a second
  readonly #refreshes = new RunCoalescer(() => this.#refreshOnce(), { minGapMs: MIN_REFRESH_GAP_MS });
  readonly #now: () => Date;

  constructor(
    private readonly config: TlsConfig,
    private readonly hooks: CertificateGuardHooks,
    private readonly log: Logger,
    private readonly metrics: CrlMetrics,
    options: CertificateGuardOptions = {},
  ) {
    this.#now = options.now ?? (() => new Date());
    this.#source = options.source ?? sourceOf(config, options.fetch);
  }

  /** Serials on the CRLs in force. */
  get revoked(): ReadonlySet<string> {
    return this.#revoked;
  }

  /** The CRLs in force, as the server reports them to the control plane (issuer and CRL number). */
  crlNumbers(): ReportedCrl[] {
    return [...this.#set.values()].map((crl) => ({ issuer: crl.ca.subject, crlNumber: crl.snapshot.crlNumber?.toString() ?? null }));
  }

  /**
   * Loads the CRLs, puts them in force, then polls. A `DMR_TLS_CRL_FILE` with a CRL that fails verification at start
   * throws DMR_CONFIG_INVALID naming the variable (exit code 2); an expired one is taken (there is nothing better, and
   * leaving it out would accept revoked certificates) and reported not-ready. A `DMR_TLS_CRL_URL` that cannot be read at
   * start is retried on its interval (and on push) while every agent is refused.
   */
  async start(): Promise<void> {
    this.#trustedCas = await readTrustedFingerprints(this.config.caFile);
    if (this.#source?.variable === 'DMR_TLS_CRL_FILE') await this.#loadFileAtStart(this.#source);
    else if (this.#source) await this.refresh();
    this.#checkHealth();
    this.#every(this.config.crlReloadIntervalMs, () => this.#tick());
    if (this.#source?.variable === 'DMR_TLS_CRL_URL') this.#every(this.config.crlFetchIntervalMs, () => this.refresh());
  }

  /** Stops polling and waits for a read in progress. Idempotent. */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await this.#refreshes.stop();
  }

  /**
   * Reads the CRL bundle now (at most one read in flight plus one queued) and puts what passes in force. Resolves true
   * when the read succeeded (whether or not anything changed), false when it failed; never rejects.
   */
  async refresh(): Promise<boolean> {
    return (await this.#refreshes.trigger()) ?? false;
  }

  /** Judges a connection's peer now against the CRLs in force. */
  judge(peer: PeerIdentity | undefined): CertificateVerdict {
    const verdict = judgeCertificate(peer, this.#revoked, this.#now(), this.#trustedCas);
    if (!verdict.ok || !this.#isWaitingForFirstCrl()) return verdict;
    return { ok: false, code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED', reason: 'no CRL in force yet: DMR_TLS_CRL_URL has not been read' };
  }

  /**
   * DMR_TLS_CA_FILE changed (a trust-anchor change-over step): takes its CAs as the trusted ones, re-reads and judges the
   * CRL bundle anew (a CRL of a newly trusted CA was refused before, one of a retired CA is dropped), and re-checks live
   * connections (an agent whose CA was retired is cut with DMR_AUTH_CERTIFICATE_UNTRUSTED). Resolves once done.
   */
  async trustChanged(): Promise<void> {
    try {
      this.#trustedCas = await readTrustedFingerprints(this.config.caFile);
    } catch (error) {
      this.log.error({ err: toDmrError(error) }, 'DMR_TLS_CA_FILE not read after it changed; the trusted CAs in force stay');
      return;
    }
    this.log.info({ cas: this.#trustedCas.size }, 'trusted CAs changed; CRLs judged again and live connections re-checked');
    this.#lastRead = undefined;
    await this.refresh();
    this.hooks.recheck();
  }

  /** The CRLs' state for readiness. */
  readiness(): CrlReadiness {
    const { health, crl } = worstCrl(this.#set, this.#now(), this.config.crlWarnBeforeMs);
    const fetch = this.#source?.variable === 'DMR_TLS_CRL_URL' ? (this.#readFailure === undefined ? 'ok' : 'failing') : undefined;
    if (this.#isWaitingForFirstCrl()) {
      const detail = `no CRL in force yet: DMR_TLS_CRL_URL ${this.#source?.location} not read${this.#readFailure ? ` (${this.#readFailure})` : ''}; every agent is refused until it is`;
      return { health, isUsable: false, detail, fetch };
    }
    const isUsable = health !== 'expired' && health !== 'not-yet-valid';
    const isPlain = health === 'none' || health === 'current';
    return { health, isUsable, detail: isPlain ? undefined : this.#describe(health, crl), fetch };
  }

  async #tick(): Promise<void> {
    try {
      if (this.#source?.variable === 'DMR_TLS_CRL_FILE') await this.refresh();
      this.#checkHealth();
      this.hooks.recheck();
    } catch (error) {
      // a timer callback: nothing above it would catch this, and an unhandled rejection must not end the process
      this.log.error({ err: toDmrError(error) }, 'CRL re-check failed; the CRLs in force stay');
    }
  }

  async #refreshOnce(): Promise<boolean> {
    const source = this.#source;
    if (!source) return true;
    try {
      const bytes = await source.read();
      this.#readSucceeded(source);
      // an unchanged bundle is not judged again, unless a CRL of it was only not yet valid (clocks catch up)
      if (this.#lastRead?.equals(bytes) && !this.#isRetryDue) return true;
      await this.#merge(bytes);
      // only once judged: a bundle whose judging failed (an unreadable CA file) is judged again on the next read
      this.#lastRead = bytes;
      return true;
    } catch (error) {
      this.#readFailed(source, toDmrError(error));
      return false;
    }
  }

  async #merge(bytes: Buffer): Promise<void> {
    const caPem = await readFile(this.config.caFile, 'utf8');
    const entries = await readCrlBundle(bytes, caPem);
    const trusted = new Set(trustedCas(caPem).map((ca) => ca.keyId));
    const change = mergeCrlBundle(this.#set, entries, trusted, this.#now());
    this.#isRetryDue = change.refused.some((refusal) => refusal.code === 'DMR_CA_CRL_NOT_YET_VALID');
    for (const refusal of change.refused) this.#refuse(refusal);
    if (change.accepted.length + change.dropped.length === 0) return;
    this.#putInForce(change.next);
    for (const crl of change.accepted) this.log.info(crlFields(crl), 'CRL put in force');
    for (const crl of change.dropped) this.log.warn(crlFields(crl), 'CRL dropped: its CA is no longer in DMR_TLS_CA_FILE');
    this.#checkHealth();
    this.hooks.recheck();
    this.hooks.onCrlsChanged?.();
  }

  async #loadFileAtStart(source: CrlSource): Promise<void> {
    try {
      const bytes = await source.read();
      const caPem = await readFile(this.config.caFile, 'utf8');
      const entries = await readCrlBundle(bytes, caPem);
      const change = mergeCrlBundle(new Map(), entries, new Set(trustedCas(caPem).map((ca) => ca.keyId)), this.#now());
      const refusal = change.refused[0];
      if (refusal) throw new DmrError(refusal.code, refusal.reason);
      this.#lastRead = bytes;
      this.#putInForce(change.next);
    } catch (error) {
      const reason = toDmrError(error).message;
      throw new DmrError('DMR_CONFIG_INVALID', `invalid configuration: DMR_TLS_CRL_FILE: "${source.location}": ${reason}`, {
        cause: error,
      });
    }
  }

  #putInForce(next: CrlSet): void {
    // the TLS context first: if it cannot take the CRLs, the old ones stay in force everywhere
    this.hooks.applyCrl([...next.values()].map((crl) => crl.pem));
    this.#set = next;
    this.#revoked = revokedSerialsOf(next);
    this.#loggedRefusals.clear();
    this.metrics.nextUpdate.reset();
    this.metrics.crlNumber.reset();
    for (const { ca, snapshot } of next.values()) {
      if (snapshot.nextUpdate) this.metrics.nextUpdate.set({ issuer: ca.subject }, snapshot.nextUpdate.getTime() / 1000);
      if (snapshot.crlNumber !== undefined) this.metrics.crlNumber.set({ issuer: ca.subject }, Number(snapshot.crlNumber));
    }
  }

  /** Logs and counts a refusal once per distinct CRL and code. */
  #refuse(refusal: CrlRefusal): void {
    const key = `${refusal.code}:${createHash('sha256').update(refusal.pem).digest('hex')}`;
    if (this.#loggedRefusals.has(key)) return;
    if (this.#loggedRefusals.size >= MAX_REMEMBERED_REFUSALS) this.#loggedRefusals.clear();
    this.#loggedRefusals.add(key);
    this.metrics.refusalsTotal.inc({ code: refusal.code });
    this.log.error(
      {
        code: refusal.code,
        reason: refusal.reason,
        issuer: refusal.issuer,
        source: this.#source?.variable,
        location: this.#source?.location,
      },
      "CRL refused; that CA's CRL in force stays (publish a valid CRL from the agent CA)",
    );
  }

  #readSucceeded(source: CrlSource): void {
    if (this.#readFailure === undefined) return;
    this.#readFailure = undefined;
    this.log.info({ source: source.variable, location: source.location }, 'CRL source readable again');
  }

  /** Logged when the reason changes (a source that stays down is one line); every failed fetch of the URL is counted. */
  #readFailed(source: CrlSource, failure: DmrError): void {
    const isNew = failure.message !== this.#readFailure;
    this.#readFailure = failure.message;
    if (isNew || source.variable === 'DMR_TLS_CRL_URL') this.metrics.refusalsTotal.inc({ code: failure.code });
    if (!isNew) return;
    this.log.error(
      { code: failure.code, reason: failure.message, source: source.variable, location: source.location },
      'CRL bundle not read; the CRLs in force stay',
    );
  }

  /** Exports each CRL's expiring flag and logs each change of the worst health once. */
  #checkHealth(): void {
    const now = this.#now();
    for (const crl of this.#set.values()) {
      const { health } = worstCrl(new Map([[crl.ca.keyId, crl]]), now, this.config.crlWarnBeforeMs);
      this.metrics.expiring.set({ issuer: crl.ca.subject }, health === 'current' ? 0 : 1);
    }
    const { health, crl } = worstCrl(this.#set, now, this.config.crlWarnBeforeMs);
    if (health === this.#loggedHealth) return;
    this.#loggedHealth = health;
    const fields = {
      health,
      issuer: crl?.ca.subject,
      nextUpdate: crl?.snapshot.nextUpdate?.toISOString(),
      crlNumber: crl?.snapshot.crlNumber?.toString(),
    };
    if (health === 'expiring') this.log.warn(fields, this.#describe(health, crl));
    else if (health === 'expired' || health === 'not-yet-valid') this.log.error(fields, this.#describe(health, crl));
    else if (health === 'current') this.log.info(fields, 'CRLs in force are current');
  }

  #describe(health: CrlHealth, crl: VerifiedCrl | undefined): string {
    return describeCrlHealth(health, crl, { variable: this.#source?.variable ?? 'DMR_TLS_CRL_FILE', readFailure: this.#readFailure });
  }

  #isWaitingForFirstCrl(): boolean {
    return this.#source?.variable === 'DMR_TLS_CRL_URL' && this.#set.size === 0;
  }

  #every(intervalMs: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => void task(), intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }
}

async function readTrustedFingerprints(caFile: string): Promise<ReadonlySet<string>> {
  const pems = pemCertificates(await readFile(caFile, 'utf8'));
  return new Set(pems.map((pem) => new X509Certificate(pem).fingerprint256));
}

function sourceOf(config: TlsConfig, fetch: CrlFetchOptions | undefined): CrlSource | undefined {
  if (config.crlFile) return fileCrlSource(config.crlFile);
  if (config.crlUrl) return urlCrlSource(config.crlUrl, fetch ?? { timeoutMs: 10_000, caFile: undefined });
  return undefined;
}

function crlFields(crl: VerifiedCrl): Record<string, unknown> {
  return { issuer: crl.ca.subject, crlNumber: crl.snapshot.crlNumber?.toString(), revoked: crl.snapshot.revokedSerials.size };
}
