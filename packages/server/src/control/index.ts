export { AnnouncementListener, type ListenerBroker, type ListenerDeps, type ListenerStatus } from './announcement-listener.js';
export { type ControlRequest, type ControlResponse, type ControlTls, sendControlRequest } from './control-client.js';
export {
  type AnnouncementOutcome,
  type AnnouncementPlan,
  ControlSync,
  type ControlSyncDeps,
  planAnnouncement,
  type SyncedVersions,
  type SyncTargets,
} from './control-sync.js';
export { type ReporterConfig, type ReporterDeps, type ReportFacts, ServerReporter } from './server-reporter.js';
