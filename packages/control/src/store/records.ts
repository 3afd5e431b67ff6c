// The records the control store keeps. Times are ISO 8601 UTC strings with milliseconds
// (`2026-12-07T10:00:00.000Z`, what `Date.prototype.toISOString` writes) in both engines, so they sort as text.

/** An ISO 8601 UTC timestamp with milliseconds, e.g. `2026-12-07T10:00:00.000Z`. */
export type IsoTime = string;

/** An agent of the registry, as stored. `revision` starts at 1 and grows by one on every update (the ETag). */
export interface AgentRecord {
  readonly id: string;
  readonly name: string;
  readonly institution: string;
  readonly contact: string;
  /** Free key → value labels; keys unique. */
  readonly labels: Readonly<Record<string, string>>;
  /** Group names, kept in the order given, without duplicates. */
  readonly groups: readonly string[];
  /** PEM public key or certificate; null until the agent enrolled. */
  readonly authenticationCertificate: string | null;
  readonly capabilities: readonly string[];
  readonly enabled: boolean;
  readonly createdAt: IsoTime;
  readonly updatedAt: IsoTime;
  readonly revision: number;
}

/** What creating an agent needs; the store sets createdAt, updatedAt (its clock) and revision 1. */
export interface AgentInput {
  /** Given by the caller (the API makes a UUID when the client names none). */
  readonly id: string;
  readonly name: string;
  readonly institution: string;
  readonly contact: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly groups: readonly string[];
  readonly authenticationCertificate: string | null;
  readonly capabilities: readonly string[];
  readonly enabled: boolean;
}

/** An update: each field present replaces the stored one (labels and groups as a whole); absent fields stay. */
export type AgentPatch = Partial<Omit<AgentInput, 'id'>>;

/** Whom a certificate names. */
export type CertificateSubjectKind = 'agent' | 'server' | 'admin' | 'relay-user' | 'rabbitmq-server';

/** Every {@link CertificateSubjectKind}. */
export const CERTIFICATE_SUBJECT_KINDS: readonly CertificateSubjectKind[] = ['agent', 'server', 'admin', 'relay-user', 'rabbitmq-server'];

/**
 * RFC 5280 CRLReason names the store accepts (section 5.3.1; the same names as the CA library's
 * `REVOCATION_REASONS`, plus the ones a CA that issues admin certificates may also need).
 */
export type StoredRevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** Every {@link StoredRevocationReason}. */
export const STORED_REVOCATION_REASONS: readonly StoredRevocationReason[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
];

/**
 * A certificate a CA of this control plane issued. `serial` is lowercase hex without separators and unique
 * across all CAs of the store (the CA library's serials are 128 random bits).
 */
export interface CertificateRecord {
  readonly serial: string;
  /** Which CA issued it (the caller's CA id, e.g. `agents-2026`). */
  readonly caId: string;
  readonly subjectKind: CertificateSubjectKind;
  /** Agent id, server name, admin person, RabbitMQ user or host. */
  readonly subjectId: string;
  readonly notBefore: IsoTime;
  readonly notAfter: IsoTime;
  readonly pem: string;
  /** SHA-256 (lowercase hex) of the DER SubjectPublicKeyInfo: same key ⇒ same value across renewals. */
  readonly publicKeySha256: string;
  readonly issuedAt: IsoTime;
  readonly revokedAt: IsoTime | null;
  readonly revocationReason: StoredRevocationReason | null;
}

/** What inserting a certificate needs; the store sets issuedAt (its clock) and leaves it unrevoked. */
export type CertificateInput = Omit<CertificateRecord, 'issuedAt' | 'revokedAt' | 'revocationReason'>;

/** A revoked certificate as a CRL needs it. */
export interface RevokedEntry {
  readonly serial: string;
  readonly revokedAt: IsoTime;
  readonly reason: StoredRevocationReason;
}

/** The counters of one CA: the last serial and CRL number handed out (0 = none yet). */
export interface CaStateRecord {
  readonly caId: string;
  readonly lastSerial: number;
  readonly lastCrlNumber: number;
  readonly updatedAt: IsoTime;
}

/** A one-time enrollment token, stored only as the SHA-256 of the token. */
export interface EnrollmentTokenRecord {
  /** SHA-256 of the token, lowercase hex (64 characters). */
  readonly tokenHash: string;
  readonly agentId: string;
  readonly createdAt: IsoTime;
  readonly expiresAt: IsoTime;
  /** Who made it (the admin certificate's subject). */
  readonly createdBy: string;
  readonly usedAt: IsoTime | null;
}

/** What creating a token needs. */
export type EnrollmentTokenInput = Pick<EnrollmentTokenRecord, 'tokenHash' | 'agentId' | 'expiresAt' | 'createdBy'>;

/** One version of the policy document (content: issue #19). Versions start at 1 and grow by one. */
export interface PolicyRecord {
  readonly version: number;
  /** Any JSON value; stored as JSON text and parsed back. */
  readonly document: unknown;
  readonly createdAt: IsoTime;
  readonly createdBy: string;
  readonly comment: string;
}

/** What inserting a policy version needs; the store allocates the version. */
export type PolicyInput = Pick<PolicyRecord, 'document' | 'createdBy' | 'comment'>;

/** A DMR server instance as it last reported itself (`PUT /v1/servers/{instanceId}`). */
export interface ServerRecord {
  readonly instanceId: string;
  readonly name: string;
  readonly firstSeenAt: IsoTime;
  readonly lastSyncAt: IsoTime;
  readonly configVersion: number;
  /** CA id → CRL number the server has loaded (any JSON value is kept as given). */
  readonly crlNumbers: unknown;
  readonly softwareVersion: string;
  readonly startedAt: IsoTime | null;
}

/** A server's report; the store sets firstSeenAt (first report only) and lastSyncAt (its clock). */
export type ServerReport = Omit<ServerRecord, 'firstSeenAt' | 'lastSyncAt'>;

/** Who did something: the client certificate's subject and the role it carried (`none` when it had none). */
export interface ChangeActor {
  readonly subject: string;
  readonly role: string;
}

/** Whether a change took effect or was refused (401/403 and other refusals worth recording). */
export type ChangeOutcome = 'applied' | 'refused';

/** One entry of the append-only change log. */
export interface ChangeRecord {
  /** Increasing; PostgreSQL may leave gaps (rolled-back transactions). */
  readonly seq: number;
  readonly at: IsoTime;
  readonly actor: ChangeActor;
  /** What was done, e.g. `agent.create`, `certificate.revoke`, `request.refused`. */
  readonly action: string;
  /** What kind of record it touched, e.g. `agent`, `certificate`, `policy`, `route`. */
  readonly subjectKind: string;
  readonly subjectId: string | null;
  /** SHA-256 of the canonical JSON of the record before (null when there was none). */
  readonly beforeHash: string | null;
  /** SHA-256 of the canonical JSON of the record after (null when there is none). */
  readonly afterHash: string | null;
  /** The configVersion this change produced (applied, bumped) or ran under (refused, unchanged). */
  readonly configVersion: number;
  readonly outcome: ChangeOutcome;
  /** The DMR_* code of a refusal; null when applied. */
  readonly code: string | null;
}

/**
 * What appending a change needs. `before` / `after` are the records themselves: the store hashes their
 * canonical JSON (`canonicalSha256` in domain/) so no record content lands in the log; undefined or null → null.
 */
export interface ChangeInput {
  readonly actor: ChangeActor;
  readonly action: string;
  readonly subjectKind: string;
  readonly subjectId: string | null;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly outcome: ChangeOutcome;
  readonly code?: string | null;
}
