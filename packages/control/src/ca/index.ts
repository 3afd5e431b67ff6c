export { AUDIT_SIGNER_VALIDITY_DAYS, type IssuedAuditSigner, issueAuditSigner } from './audit-signer.js';
export {
  type InitCaOptions,
  type IssuedCertificate,
  type IssueOptions,
  initCa,
  issueCertificate,
  type PublishCrlOptions,
  type PublishedCrl,
  publishCrl,
  revokeCertificates,
} from './authority.js';
export {
  type CaState,
  type IssuedRecord,
  parseCaState,
  parseRevocationReason,
  purposeOf,
  REVOCATION_REASONS,
  type RevocationReason,
  type RevocationTarget,
  type RevokedRecord,
} from './ca-state.js';
export {
  CRL_PEM_LABEL,
  type CrlEntry,
  type CrlReasonName,
  type CrlSnapshot,
  DEFAULT_CRL_VALIDITY_DAYS,
  isCertificateRevoked,
  isCrlCurrent,
  isPeerRevoked,
  readCrl,
} from './crl.js';
export { MAX_CSR_PEM_LENGTH, type VerifiedCsr, verifyCsr } from './csr.js';
export { type CaPaths, caPaths, keyModeProblem, type LeafPaths, leafPaths, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE } from './files.js';
export {
  type CaSigner,
  CLOCK_SKEW_MS,
  createRoot,
  DEFAULT_CA_VALIDITY_DAYS,
  DEFAULT_LEAF_VALIDITY_DAYS,
  type Validity,
  validityFor,
} from './issue.js';
export { KEY_TYPES, type KeyType, privateKeyPem, signingKeyFromPem } from './keys.js';
export {
  type AgentIssueOptions,
  issueAdminCertificate,
  issueAgentCertificate,
  issueRabbitmqServerCertificate,
  issueRelayUserCertificate,
  issueServerCertificate,
  type ServerNames,
} from './leaves.js';
export { AGENT_ID_PATTERN, AGENT_URI_PREFIX, agentUri, isAgentId } from './names.js';
export { type SignedLeaf, signCrlWith, signLeafWith } from './online.js';
export {
  AUDIT_SIGNER_URI,
  adminProfile,
  agentProfile,
  assertKindAllowed,
  auditProfile,
  CA_PURPOSES,
  type CaPurpose,
  CERTIFICATE_KINDS,
  type CertificateKind,
  type LeafProfile,
  relayUserProfile,
  serverInstanceProfile,
  serverProfile,
} from './profiles.js';
export {
  type AddCaOptions,
  activateRingCa,
  addCaToRing,
  type LoadedRing,
  loadCaRing,
  RING_FILE,
  type RingCa,
  retireRingCa,
  signingCaOf,
  trustedBundlePem,
  trustedCasOf,
} from './ring.js';
export { type AltName, agentIdFromCertificate, agentIdFromSubjectAltName, parseSubjectAltName } from './san.js';
export { normaliseSerial, randomSerial } from './serial.js';
export { type CertificateSummary, describeCertificate } from './show.js';
