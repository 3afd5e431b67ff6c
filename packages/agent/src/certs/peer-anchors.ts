import { readFile } from 'node:fs/promises';
import { type Logger, type PeerTrustPolicy, parseTrustAnchors, toDmrError } from '@dmr/shared';

/** The directory whose trust anchors follow the file (the agent's `AgentDirectory`). */
export interface RetrustTarget {
  retrust(trust: PeerTrustPolicy): { trusted: number; untrusted: number };
}

/** What the watcher reads and where it puts it. */
export interface PeerAnchorsOptions {
  /** `DMR_PEER_CA_FILE` (default `DMR_TLS_CA_FILE`, which the certificate keeper writes during a change-over). */
  readonly caFile: string;
  /** The policy in force at start; only its anchors change. */
  readonly policy: PeerTrustPolicy;
  /** How often the file is compared with the anchors in force, ms (`DMR_CERT_RELOAD_INTERVAL_MS`). */
  readonly intervalMs: number;
  readonly directory: RetrustTarget;
  readonly log: Logger;
}

/**
 * Keeps the trust anchors for peer keys equal to `DMR_PEER_CA_FILE` while the agent runs (issue 18, trust-anchor
 * change-over): a new CA published beside the old one is trusted for peer certificates without a restart, and a retired
 * one no longer. A file that does not parse is logged once and the anchors in force stay. One check at a time.
 */
export class PeerAnchorsWatcher {
  readonly #options: PeerAnchorsOptions;
  #text: string | undefined;
  #refusedText: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #check: Promise<void> = Promise.resolve();

  constructor(options: PeerAnchorsOptions) {
    this.#options = options;
  }

  /** Remembers the file as it is now (what the directory was built with) and starts the interval. */
  async start(): Promise<void> {
    this.#text = await readFile(this.#options.caFile, 'utf8').catch(() => undefined);
    this.#timer = setInterval(() => void this.checkNow(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Compares the file with the anchors in force now (after the keeper wrote a new bundle); resolves once done. */
  checkNow(): Promise<void> {
    this.#check = this.#check.then(() => this.#compare());
    return this.#check;
  }

  /** Stops the interval and waits for a check in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#check;
  }

  async #compare(): Promise<void> {
    const { caFile, policy, directory, log } = this.#options;
    let text: string;
    try {
      text = await readFile(caFile, 'utf8');
    } catch (error) {
      this.#refuse(`unreadable:${caFile}`, toDmrError(error).message);
      return;
    }
    if (text === this.#text || text === this.#refusedText) return;
    try {
      const anchors = parseTrustAnchors(text);
      const counts = directory.retrust({ ...policy, anchors });
      this.#text = text;
      this.#refusedText = undefined;
      log.info({ caFile, anchors: anchors.length, ...counts }, 'peer trust anchors changed; listed peers judged again');
    } catch (error) {
      this.#refuse(text, toDmrError(error).message);
    }
  }

  #refuse(key: string, reason: string): void {
    if (this.#refusedText === key) return;
    this.#refusedText = key;
    this.#options.log.warn({ caFile: this.#options.caFile, reason }, 'peer CA file not usable; the trust anchors in force stay');
  }
}
