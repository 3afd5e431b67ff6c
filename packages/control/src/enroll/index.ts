// The certificate lifecycle of dmr-control: provisioners (token, renewal, operator) behind one interface, the issuer,
// revocation, CRL publishing and the CA ring in force. The API's route plugins and the service use only this surface.

export { type RotationRequest, type RotationResult, type RotationStep, rotateCa } from './ca-rotation.js';
export {
  DEFAULT_AGENT_CERT_VALIDITY_DAYS,
  DEFAULT_SERVER_CERT_VALIDITY_DAYS,
  type LifecycleConfig,
  readLifecycleConfig,
} from './config.js';
export { CrlPublisher, type Republished, SYSTEM_ACTOR } from './crl-publisher.js';
export { CrlTimer, type CrlTimerState } from './crl-timer.js';
export type { EnrollmentTokenGrant, ServiceTokenRequest } from './enrollment-tokens.js';
export { CertificateLifecycle, type CertificateLifecycleDeps, type IssuedCertificateResponse } from './lifecycle.js';
export type { OperatorRequest } from './operator-provisioner.js';
export type {
  Actor,
  AnnouncementKind,
  Clock,
  ConfigAnnouncer,
  LifecycleDeps,
  LifecycleStore,
  LifecycleTransaction,
} from './ports.js';
export type { Provisioner, ProvisionerType, SignGrant } from './provisioner.js';
export type { RenewalRequest } from './renewal-provisioner.js';
export type { Revocation } from './revocation.js';
export { CaRingHolder, type RingReload } from './ring-holder.js';
export type { TokenRequest } from './token-provisioner.js';
