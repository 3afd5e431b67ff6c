import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DmrError, type Logger, type ReportedCrl, RunCoalescer, type ServerReport, toDmrError } from '@dmr/shared';
import type { Counter } from 'prom-client';
import { type ControlTls, sendControlRequest } from './control-client.js';

/** Where the report goes and how. */
export interface ReporterConfig {
  /** `DMR_CONTROL_URL` without a trailing slash. */
  readonly url: string;
  readonly instanceId: string;
  readonly timeoutMs: number;
  /** CA bundle, client certificate and key (mutual TLS: the control plane's `server` role). */
  readonly tls: ControlTls;
}

/** What the report says; read when each report is sent. */
export interface ReportFacts {
  readonly configVersion: () => number | undefined;
  readonly crlNumbers: () => ReportedCrl[];
  /** dmr-server's package version. */
  readonly version: string;
  readonly startedAt: Date;
}

/** Reporter dependencies. */
export interface ReporterDeps {
  readonly log: Logger;
  readonly reportsTotal: Pick<Counter<'result'>, 'inc'>;
}

/** Largest answer read from the control plane (its JSON echo or error body). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** OID of the clientAuth extended key usage (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/**
 * Tells the control plane what this server runs (issue 18): `PUT {DMR_CONTROL_URL}/v1/servers/{instanceId}` with
 * `{configVersion, crlNumbers, version, startedAt}` over mutual TLS, after every applied sync. At most one report in
 * flight and one queued, so a burst of syncs sends the latest facts once more. A failure is logged and counted
 * (DMR_CONTROL_REPORT_FAILED) and retried with the next sync; it never touches routing. Never rejects.
 */
export class ServerReporter {
  readonly #reports = new RunCoalescer(() => this.#send());
  #lastFailure: string | undefined;

  constructor(
    private readonly config: ReporterConfig,
    private readonly facts: ReportFacts,
    private readonly deps: ReporterDeps,
  ) {}

  /** The report body as it would be sent now. */
  body(): ServerReport {
    const configVersion = this.facts.configVersion();
    return {
      configVersion: configVersion ?? null,
      crlNumbers: this.facts.crlNumbers(),
      version: this.facts.version,
      startedAt: this.facts.startedAt.toISOString(),
    };
  }

  /** Sends the report (coalesced); resolves true when the control plane took it. Never rejects. */
  async report(): Promise<boolean> {
    return (await this.#reports.trigger()) ?? false;
  }

  /** Warns at start when the client certificate cannot authenticate a client (no clientAuth usage): every report would fail. */
  async checkCertificate(): Promise<void> {
    const { certFile } = this.config.tls;
    if (!certFile) return;
    try {
      const usages = new X509Certificate(await readFile(certFile)).keyUsage;
      if (usages !== undefined && !usages.includes(CLIENT_AUTH_OID)) {
        this.deps.log.warn(
          { certFile, extendedKeyUsage: usages },
          'the control plane client certificate lacks the clientAuth usage: reports will be refused (set DMR_CONTROL_CLIENT_CERT_FILE, or have dmr-control issue the server certificate)',
        );
      }
    } catch (error) {
      this.deps.log.warn({ certFile, err: toDmrError(error) }, 'cannot read the control plane client certificate');
    }
  }

  /** Waits for a report in flight; none starts afterwards. Idempotent. */
  async stop(): Promise<void> {
    await this.#reports.stop();
  }

  async #send(): Promise<boolean> {
    const url = `${this.config.url}/v1/servers/${encodeURIComponent(this.config.instanceId)}`;
    const body = this.body();
    try {
      const answer = await sendControlRequest({
        method: 'PUT',
        url,
        json: body,
        timeoutMs: this.config.timeoutMs,
        tls: this.config.tls,
        maxBytes: MAX_ANSWER_BYTES,
        accept: 'application/json',
      });
      if (answer.status < 200 || answer.status >= 300)
        throw new Error(`HTTP ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`);
    } catch (error) {
      this.#failed(url, toDmrError(error).message);
      return false;
    }
    this.deps.reportsTotal.inc({ result: 'ok' });
    if (this.#lastFailure !== undefined) this.deps.log.info({ url }, 'control plane report accepted again');
    this.#lastFailure = undefined;
    this.deps.log.debug({ url, configVersion: body.configVersion }, 'reported to the control plane');
    return true;
  }

  #failed(url: string, reason: string): void {
    this.deps.reportsTotal.inc({ result: 'failed' });
    const failure = new DmrError('DMR_CONTROL_REPORT_FAILED', `report to ${url} failed: ${reason}`);
    // every failure is counted; the same reason again is a debug line, so a control plane that stays down is one warning
    const level = reason === this.#lastFailure ? 'debug' : 'warn';
    this.#lastFailure = reason;
    this.deps.log[level]({ code: failure.code, reason: failure.message }, 'control plane report failed; retried after the next sync');
  }
}
