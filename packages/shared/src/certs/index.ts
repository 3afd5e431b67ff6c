// `@dmr/shared/certs`: the client side of certificate enrollment, renewal and reload (issue 18), shared by the agent
// and the server. A subpath of its own: its CSR code loads @peculiar/x509 (lazily, on the first CSR).
export {
  type CertificatePaths,
  fileExists,
  KEY_FILE_MODE,
  PUBLIC_FILE_MODE,
  readIdentity,
  readMaterial,
  writeFileAtomically,
  writeIssued,
} from './cert-files.js';
export { CertificateKeeper } from './certificate-keeper.js';
export {
  type CertificateFacts,
  type CertificateMaterial,
  identityOf,
  inspectMaterial,
  publicKeyFingerprint,
} from './certificate-material.js';
export { CERTIFICATE_METRICS, type CertificateMetricSet, certificateObserver } from './certificate-metrics.js';
export {
  ACTIVE_CA_HEADER,
  type CaBundle,
  type ClientIdentity,
  ControlError,
  type ControlRefusal,
  type ControlTarget,
  enrollAtControl,
  fetchCaBundle,
  type IssuedCertificate,
  renewAtControl,
} from './control-client.js';
export { agentEnrollmentCsr, type CsrKeys, renewalCsr } from './csr.js';
export { type EnrollmentDeps, type EnrollmentOutcome, type EnrollmentPlan, ensureEnrolled } from './enrollment.js';
export type {
  ApplyMaterial,
  CertificateObserver,
  KeeperConfig,
  KeeperDeps,
  KeeperState,
  ReloadResult,
  RenewalConfig,
  RenewalOutcome,
  TrustRefreshConfig,
} from './keeper-config.js';
export { ENROLLMENT_KEY_TYPES, type EnrollmentKeyType, generateKeys, keysOf } from './key-pairs.js';
export { checkRenewed } from './renewal-check.js';
export { nextRenewalAttemptMs, RENEWAL_RETRY, type RenewalInput, renewalDueMs, type ValidityWindow } from './renewal-schedule.js';
export { hasIssuerIn, isFromOtherCa, isSameBundle } from './trust-bundle.js';
