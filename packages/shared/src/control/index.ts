export {
  CONTROL_KINDS,
  ControlAnnouncement,
  type ControlKind,
  INSTANCE_ID_PATTERN,
  knownKindsOf,
  MAX_ANNOUNCEMENT_BYTES,
  parseControlAnnouncement,
  ReportedCrl,
  ServerReport,
} from './announcement.js';
