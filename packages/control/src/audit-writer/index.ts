// dmr-control's audit writer (docs/audit.md): the dmr.audit stream into the tamper-evident log.

export { CHANGE_LOG_EVENT_PREFIX, changeToAuditEvent } from './change-log-events.js';
export { CHANGE_LOG_POLL_MS, ChangeLogAuditPublisher, type ChangeLogPublisherDeps } from './change-log-publisher.js';
export {
  AUDIT_WRITER_FLUSH_MS,
  AUDIT_WRITER_PREFETCH,
  AUDIT_WRITER_RECONNECT_MS,
  AuditStreamWriter,
  type AuditStreamWriterDeps,
  type AuditWriterMetrics,
  type AuditWriterState,
} from './stream-writer.js';
