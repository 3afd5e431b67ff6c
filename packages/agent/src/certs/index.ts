export { type ClientCertificateParts, createClientCertificateKeeper } from './client-certificate.js';
export { enrollmentExitCode, type PrepareDeps, prepareAgentCertificate } from './enroll-at-start.js';
export { type PeerAnchorsOptions, PeerAnchorsWatcher, type RetrustTarget } from './peer-anchors.js';
