import { METRIC } from '../metrics.js';
import type { CertificateObserver } from './keeper-config.js';

/** The prom-client options (name, help, labels) of the certificate metrics; each package registers them on its registry. */
export const CERTIFICATE_METRICS = {
  expiry: {
    name: METRIC.certificateExpirySeconds,
    help: 'notAfter of the certificate in force, Unix seconds',
    labelNames: ['certificate'],
  },
  renewals: {
    name: METRIC.certificateRenewalsTotal,
    help: 'Certificate renewal attempts with dmr-control by outcome (success, refused, failed)',
    labelNames: ['certificate', 'outcome'],
  },
  reloads: {
    name: METRIC.certificateReloadsTotal,
    help: 'Changed certificate files (or renewed certificates) by result (applied, refused, failed)',
    labelNames: ['certificate', 'result'],
  },
} as const;

/** The slice of prom-client's Gauge and Counter the observer uses (shared stays free of prom-client). */
export interface CertificateMetricSet {
  readonly expiry: { set(labels: { certificate: string }, value: number): void };
  readonly renewals: { inc(labels: { certificate: string; outcome: string }): void };
  readonly reloads: { inc(labels: { certificate: string; result: string }): void };
}

/** A {@link CertificateObserver} writing to `metrics` under the label `certificate` = `name` (`tls`, `rabbitmq`). */
export function certificateObserver(metrics: CertificateMetricSet, name: string): CertificateObserver {
  return {
    expiry: (notAfterS) => metrics.expiry.set({ certificate: name }, notAfterS),
    renewal: (outcome) => metrics.renewals.inc({ certificate: name, outcome }),
    reload: (result) => metrics.reloads.inc({ certificate: name, result }),
  };
}
