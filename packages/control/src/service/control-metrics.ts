import { METRIC } from '@dmr/shared';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Metric names of dmr-control (all beyond seed 003, which had no control plane). */
export const CONTROL_METRIC = {
  /** The configVersion of the last write this instance committed or read. */
  configVersion: 'dmr_control_config_version',
  /** Announcements on `dmr.control` by result: confirmed, failed (nack, timeout, lost channel), skipped (not connected). */
  announcementsTotal: 'dmr_control_announcements_total',
  /** Admin API requests by route group (`access`), status class and DMR code of a refusal. */
  requestsTotal: 'dmr_control_requests_total',
  /** Admin API latency by access and method. */
  requestDuration: 'dmr_control_request_duration_seconds',
  /** Audit events read from `dmr.audit` and not yet in the tamper-evident log (docs/audit.md). */
  auditWriterLag: 'dmr_audit_writer_lag_events',
  /** Entries appended to the audit log by this instance's writer. */
  auditEntriesTotal: 'dmr_audit_entries_total',
  /** Stream messages the writer handled, by result: appended, duplicate (eventId already stored), invalid. */
  auditWriterEventsTotal: 'dmr_audit_writer_events_total',
} as const;

/** dmr-control's Prometheus metrics on a private registry (no global state: tests build many instances). */
export interface ControlMetrics {
  readonly registry: Registry;
  readonly configVersion: Gauge;
  readonly announcementsTotal: Counter<'result'>;
  readonly requestsTotal: Counter<'access' | 'status' | 'code'>;
  readonly requestDuration: Histogram<'access' | 'method'>;
  /** Errors that escaped every handler and were survived (see `guardProcess`). */
  readonly processUnhandledErrorsTotal: Counter<'kind' | 'code'>;
  readonly auditWriterLag: Gauge;
  readonly auditEntriesTotal: Counter;
  readonly auditWriterEventsTotal: Counter<'result'>;
}

/** Creates {@link ControlMetrics} with Node's default process metrics. */
export function createControlMetrics(): ControlMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const registers = [registry];
  return {
    registry,
    configVersion: new Gauge({ name: CONTROL_METRIC.configVersion, help: 'configVersion last committed or read', registers }),
    announcementsTotal: new Counter({
      name: CONTROL_METRIC.announcementsTotal,
      help: 'dmr.control announcements by result',
      labelNames: ['result'],
      registers,
    }),
    requestsTotal: new Counter({
      name: CONTROL_METRIC.requestsTotal,
      help: 'admin API requests by access, status class and DMR code',
      labelNames: ['access', 'status', 'code'],
      registers,
    }),
    requestDuration: new Histogram({
      name: CONTROL_METRIC.requestDuration,
      help: 'admin API request duration',
      labelNames: ['access', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    processUnhandledErrorsTotal: new Counter({
      name: METRIC.processUnhandledErrorsTotal,
      help: 'errors that escaped every handler and were survived',
      labelNames: ['kind', 'code'],
      registers,
    }),
    auditWriterLag: new Gauge({ name: CONTROL_METRIC.auditWriterLag, help: 'audit events in dmr.audit not yet in the log', registers }),
    auditEntriesTotal: new Counter({ name: CONTROL_METRIC.auditEntriesTotal, help: 'entries appended to the audit log', registers }),
    auditWriterEventsTotal: new Counter({
      name: CONTROL_METRIC.auditWriterEventsTotal,
      help: 'dmr.audit messages handled by the writer, by result',
      labelNames: ['result'],
      registers,
    }),
  };
}
