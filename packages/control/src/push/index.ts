export { type AnnounceResult, type AnnouncerDeps, type AnnouncerStatus, ControlAnnouncer } from './control-announcer.js';
