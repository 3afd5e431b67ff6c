import type { EnvReader } from './env-reader.js';

/** How to reach dmr-control for enrollment and renewal (issue 18, docs/control-plane.md). */
export interface ControlEndpoint {
  /** Base URL of dmr-control (`DMR_CONTROL_URL`, https only: the token and the renewal's client certificate need TLS). */
  readonly url: string;
  /** PEM CA bundle that signs dmr-control's TLS certificate (`DMR_CONTROL_CA_FILE`); undefined = Node's default CAs. */
  readonly caFile: string | undefined;
}

/** The certificate lifecycle settings agents and servers share. */
export interface CertLifecycleSettings {
  /** dmr-control, when the certificate is renewed through it; undefined = files only (any CA, rotated by someone else). */
  readonly control: ControlEndpoint | undefined;
  /** Share of the certificate's lifetime after which it is renewed (`DMR_CERT_RENEW_AT_FRACTION`, 0.1–0.95, default 0.6667). */
  readonly renewAtFraction: number;
  /** How often the certificate, key and CA files are re-read to pick up a rotation on disk, ms (`DMR_CERT_RELOAD_INTERVAL_MS`). */
  readonly reloadIntervalMs: number;
  /**
   * How often the trusted CA bundle is read from dmr-control (`GET /v1/ca-certificates`) to follow a trust-anchor
   * change-over, ms (`DMR_CA_BUNDLE_REFRESH_INTERVAL_MS`, default 15 min; 0 = never on a timer). Only with `control`.
   */
  readonly caBundleRefreshIntervalMs: number;
}

/** Default renewal point: two thirds of the lifetime (docs/control-plane.md, "Certificates"). */
export const DEFAULT_RENEW_AT_FRACTION = 0.6667;
/** Bounds of `DMR_CERT_RENEW_AT_FRACTION`: earlier renews needlessly often, later leaves no time to retry. */
export const RENEW_AT_FRACTION_RANGE = { min: 0.1, max: 0.95 } as const;
/** Default `DMR_CERT_RELOAD_INTERVAL_MS`: reading three small files every 10 s costs nothing measurable. */
export const DEFAULT_CERT_RELOAD_INTERVAL_MS = 10_000;
/** Default `DMR_CA_BUNDLE_REFRESH_INTERVAL_MS`: a new CA is published days before it signs, so a quarter hour is plenty. */
export const DEFAULT_CA_BUNDLE_REFRESH_INTERVAL_MS = 900_000;

const DECIMAL = /^(?:0|[1-9]\d*)?(?:\.\d+)?$/;

/**
 * Reads `DMR_CONTROL_URL`, `DMR_CONTROL_CA_FILE`, `DMR_CERT_RENEW_AT_FRACTION` and `DMR_CERT_RELOAD_INTERVAL_MS`.
 * Pure: problems are recorded on `read` naming the variable (its `finish()` throws DMR_CONFIG_INVALID).
 */
export function readCertLifecycle(read: EnvReader): CertLifecycleSettings {
  return {
    control: readControlEndpoint(read),
    renewAtFraction: readRenewAtFraction(read),
    reloadIntervalMs: readCertReloadIntervalMs(read),
    caBundleRefreshIntervalMs: readCaBundleRefreshIntervalMs(read),
  };
}

/** `DMR_CA_BUNDLE_REFRESH_INTERVAL_MS`: 0 (off) or 1 s to a day, default {@link DEFAULT_CA_BUNDLE_REFRESH_INTERVAL_MS}. */
export function readCaBundleRefreshIntervalMs(read: EnvReader): number {
  const value = read.int('DMR_CA_BUNDLE_REFRESH_INTERVAL_MS', { default: DEFAULT_CA_BUNDLE_REFRESH_INTERVAL_MS, min: 0, max: 86_400_000 });
  if (value > 0 && value < 1000) read.problem('DMR_CA_BUNDLE_REFRESH_INTERVAL_MS must be 0 (off) or at least 1000');
  return value;
}

/** `DMR_CERT_RELOAD_INTERVAL_MS`: 100 ms to a day, default {@link DEFAULT_CERT_RELOAD_INTERVAL_MS}. */
export function readCertReloadIntervalMs(read: EnvReader): number {
  return read.int('DMR_CERT_RELOAD_INTERVAL_MS', { default: DEFAULT_CERT_RELOAD_INTERVAL_MS, min: 100, max: 86_400_000 });
}

/**
 * `DMR_CONTROL_URL` (+ `DMR_CONTROL_CA_FILE`): undefined when the URL is unset. A CA file alone is not refused: the
 * server also trusts it for other dmr-control endpoints (an https `DMR_TLS_CRL_URL`).
 */
export function readControlEndpoint(read: EnvReader): ControlEndpoint | undefined {
  const url = read.optionalString('DMR_CONTROL_URL');
  const caFile = read.optionalString('DMR_CONTROL_CA_FILE');
  if (url === undefined) return undefined;
  read.url('DMR_CONTROL_URL', ['https:']);
  return { url: url.replace(/\/+$/, ''), caFile };
}

/** `DMR_CERT_RENEW_AT_FRACTION`: a decimal in [0.1, 0.95], default 0.6667. */
export function readRenewAtFraction(read: EnvReader): number {
  const raw = read.optionalString('DMR_CERT_RENEW_AT_FRACTION');
  if (raw === undefined) return DEFAULT_RENEW_AT_FRACTION;
  const value = DECIMAL.test(raw) && raw !== '.' ? Number(raw) : Number.NaN;
  const { min, max } = RENEW_AT_FRACTION_RANGE;
  if (!Number.isFinite(value) || value < min || value > max) {
    read.problem(`DMR_CERT_RENEW_AT_FRACTION must be a decimal from ${min} to ${max} (share of the certificate's lifetime), got "${raw}"`);
    return DEFAULT_RENEW_AT_FRACTION;
  }
  return value;
}
