// The CertificateKeeper's contract: its configuration, collaborators and the values it reports (issue 18).
import type { ControlEndpoint } from '../config/cert-lifecycle-config.js';
import type { Logger } from '../obs/logger.js';
import type { CertificatePaths } from './cert-files.js';
import type { CertificateFacts, CertificateMaterial } from './certificate-material.js';
import type { ClientIdentity } from './control-client.js';

/** Lifecycle state (conventions 10). */
export type KeeperState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** How a renewal attempt ended: the `outcome` label of `dmr_certificate_renewals_total`. */
export type RenewalOutcome = 'success' | 'refused' | 'failed';

/** How a changed set of files ended: the `result` label of `dmr_certificate_reloads_total`. */
export type ReloadResult = 'applied' | 'refused' | 'failed';

/** Metrics port (implemented with prom-client by the server and the agent). */
export interface CertificateObserver {
  /** notAfter of the certificate in force, Unix seconds (`dmr_certificate_expiry_seconds`). */
  expiry(notAfterS: number): void;
  renewal(outcome: RenewalOutcome): void;
  reload(result: ReloadResult): void;
}

/** Puts new material in force (a TLS context swap, a reconnect). Throws when it cannot: the old material stays. */
export type ApplyMaterial = (material: CertificateMaterial, facts: CertificateFacts) => Promise<void> | void;

/** Which identity, where, and how it is kept current. */
export interface KeeperConfig {
  /** Short name for logs and the `certificate` metric label (`tls`, `rabbitmq`). */
  readonly name: string;
  readonly paths: CertificatePaths;
  /** How often the files are compared with the material in force, ms (`DMR_CERT_RELOAD_INTERVAL_MS`). */
  readonly reloadIntervalMs: number;
  /** Renewal through dmr-control at `fraction` of the lifetime; undefined = files only. */
  readonly renewal: RenewalConfig | undefined;
  /**
   * Trust-anchor change-over (issue 18): the CA bundle of `paths.caFile` follows dmr-control's `GET /v1/ca-certificates`
   * (read every `intervalMs`, and on {@link CertificateKeeper.refreshTrust}), and once dmr-control names another signing
   * CA than the one of the certificate in force, the certificate is renewed onto it at once. Undefined = off.
   */
  readonly trust?: TrustRefreshConfig | undefined;
}

/** How a keeper follows dmr-control's trusted CA bundle. */
export interface TrustRefreshConfig {
  readonly control: ControlEndpoint;
  /** How often the bundle is read, ms (`DMR_CA_BUNDLE_REFRESH_INTERVAL_MS`); 0 = only on demand. */
  readonly intervalMs: number;
}

/** How a keeper renews through dmr-control. */
export interface RenewalConfig {
  readonly control: ControlEndpoint;
  /** Share of the lifetime after which the certificate is renewed (`DMR_CERT_RENEW_AT_FRACTION`). */
  readonly fraction: number;
  /**
   * Who calls: undefined = the certificate being renewed (agents, servers). Set for an identity renewed on its behalf
   * (the relay user's RabbitMQ certificate, renewed by its server): the client certificate of the call, read at each
   * attempt; the renewed certificate then travels in the body.
   */
  readonly caller?: () => ClientIdentity;
}

/** Collaborators. */
export interface KeeperDeps {
  readonly apply: ApplyMaterial;
  readonly observer: CertificateObserver;
  readonly log: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}
