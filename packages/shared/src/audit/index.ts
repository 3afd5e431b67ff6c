export {
  AUDIT_KINDS,
  AUDIT_STREAM,
  AuditEvent,
  type AuditKind,
  MAX_AUDIT_EVENT_BYTES,
  parseAuditEvent,
  validateAuditEvent,
} from './event.js';
export { AUDIT_STREAM_ARGUMENTS, type AuditConfirmChannel, assertAuditStream, publishAuditEvent } from './publisher.js';
