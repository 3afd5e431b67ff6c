// The ControlStore port: what the admin API, the certificate lifecycle and the service need from storage.
// Reads are on the store and on every transaction; writes exist only inside `transaction(fn)`, so nothing is
// ever half-written and the configVersion rule below holds by construction.

import type { CrlRecord, ServiceTokenInput, ServiceTokenRecord } from './lifecycle-records.js';
import type {
  AgentQuery,
  AlreadyExists,
  CertificateQuery,
  ChangeQuery,
  EnrollmentTokenQuery,
  NotFound,
  Outcome,
  PageOutcome,
  PageQuery,
  RevisionRefusal,
  RevokeRefusal,
  TokenRefusal,
} from './queries.js';
import type {
  AgentInput,
  AgentPatch,
  AgentRecord,
  CaStateRecord,
  CertificateInput,
  CertificateRecord,
  ChangeInput,
  ChangeRecord,
  EnrollmentTokenInput,
  EnrollmentTokenRecord,
  IsoTime,
  PolicyInput,
  PolicyRecord,
  RevokedEntry,
  ServerRecord,
  ServerReport,
  StoredRevocationReason,
} from './records.js';

/** Reading the agent registry. */
export interface AgentReader {
  /** The agent, or undefined. */
  get(id: string): Promise<AgentRecord | undefined>;
  /** A page of agents ordered by id. */
  list(query?: AgentQuery): Promise<PageOutcome<AgentRecord>>;
}

/** Writing the agent registry (inside a transaction). */
export interface AgentWriter extends AgentReader {
  /** Inserts the agent with revision 1; `DMR_CONTROL_ALREADY_EXISTS` when the id is taken. */
  create(input: AgentInput): Promise<Outcome<AgentRecord, AlreadyExists>>;
  /**
   * Applies the patch and bumps the revision. With `expectedRevision` (If-Match), a stored revision that
   * differs is `DMR_CONTROL_REVISION_MISMATCH`; without it the update is unconditional (bulk import).
   */
  update(id: string, patch: AgentPatch, expectedRevision?: number): Promise<Outcome<AgentRecord, NotFound | RevisionRefusal>>;
  /** Deletes the agent and its enrollment tokens (certificates stay, as history); returns the deleted record. */
  delete(id: string, expectedRevision?: number): Promise<Outcome<AgentRecord, NotFound | RevisionRefusal>>;
}

/** Reading issued certificates. */
export interface CertificateReader {
  get(serial: string): Promise<CertificateRecord | undefined>;
  /** A page of certificates ordered by serial. */
  list(query?: CertificateQuery): Promise<PageOutcome<CertificateRecord>>;
  /** Every revoked certificate of one CA, ordered by serial: what its CRL lists. */
  revokedBy(caId: string): Promise<readonly RevokedEntry[]>;
}

/** Recording issued and revoked certificates (inside a transaction). */
export interface CertificateWriter extends CertificateReader {
  /** Records an issued certificate; `DMR_CONTROL_ALREADY_EXISTS` when the serial is taken. */
  insert(input: CertificateInput): Promise<Outcome<CertificateRecord, AlreadyExists>>;
  /** Marks it revoked at the store's clock; `DMR_CA_NOT_ISSUED` / `DMR_CA_ALREADY_REVOKED` otherwise. */
  revoke(serial: string, reason: StoredRevocationReason): Promise<Outcome<CertificateRecord, RevokeRefusal>>;
}

/** Reading CA counters. */
export interface CaStateReader {
  /** The counters of a CA, or undefined before its first allocation. */
  get(caId: string): Promise<CaStateRecord | undefined>;
}

/**
 * Allocating CA numbers (inside a transaction). Each call returns the next integer (1, 2, …) for that CA,
 * atomically: two control instances on one PostgreSQL never get the same one. A rolled-back transaction
 * returns its numbers (the next caller gets them again), so a number is only spent once something committed.
 */
export interface CaStateWriter extends CaStateReader {
  allocateSerial(caId: string): Promise<number>;
  allocateCrlNumber(caId: string): Promise<number>;
}

/** Reading enrollment tokens (by hash only: the token itself is never stored). */
export interface EnrollmentTokenReader {
  get(tokenHash: string): Promise<EnrollmentTokenRecord | undefined>;
  list(query?: EnrollmentTokenQuery): Promise<PageOutcome<EnrollmentTokenRecord>>;
}

/** Making and consuming enrollment tokens (inside a transaction). */
export interface EnrollmentTokenWriter extends EnrollmentTokenReader {
  /** `DMR_CONTROL_NOT_FOUND` when the agent does not exist, `DMR_CONTROL_ALREADY_EXISTS` for a reused hash. */
  create(input: EnrollmentTokenInput): Promise<Outcome<EnrollmentTokenRecord, NotFound | AlreadyExists>>;
  /**
   * Marks the token used at `now`, exactly once: of concurrent consumers one gets the record, the others
   * `DMR_CONTROL_TOKEN_USED`. Unknown → `DMR_CONTROL_TOKEN_UNKNOWN`; `expiresAt <= now` → `DMR_CONTROL_TOKEN_EXPIRED`.
   */
  consume(tokenHash: string, now: Date): Promise<Outcome<EnrollmentTokenRecord, TokenRefusal>>;
}

/** Reading policy versions. */
export interface PolicyReader {
  get(version: number): Promise<PolicyRecord | undefined>;
  /** The highest version, or undefined when none exists. */
  latest(): Promise<PolicyRecord | undefined>;
  /** A page of versions, oldest first. */
  list(query?: PageQuery): Promise<PageOutcome<PolicyRecord>>;
}

/** Adding policy versions (inside a transaction). */
export interface PolicyWriter extends PolicyReader {
  /** Stores the document as the next version (1, 2, …, never reused) and returns it. */
  insert(input: PolicyInput): Promise<PolicyRecord>;
}

/** Reading server instances. */
export interface ServerReader {
  get(instanceId: string): Promise<ServerRecord | undefined>;
  /** A page of servers ordered by instance id. */
  list(query?: PageQuery): Promise<PageOutcome<ServerRecord>>;
}

/** Recording server reports (inside a transaction). Does not bump the configVersion by itself. */
export interface ServerWriter extends ServerReader {
  /** Inserts or replaces the server's report; firstSeenAt stays from the first report. */
  report(report: ServerReport): Promise<ServerRecord>;
}

/** Reading signed CRLs. */
export interface CrlReader {
  /** The CRL with the highest number of `caId`, or undefined before its first. */
  latest(caId: string): Promise<CrlRecord | undefined>;
}

/** Keeping signed CRLs (inside a transaction). Does not bump the configVersion by itself; keeps the last 50 per CA. */
export interface CrlWriter extends CrlReader {
  /** Stores a CRL whose number came from `caState.allocateCrlNumber` in the same transaction. */
  save(record: CrlRecord): Promise<void>;
}

/** Reading enrollment tokens of server instances and the relay user (by hash only). */
export interface ServiceTokenReader {
  get(tokenHash: string): Promise<ServiceTokenRecord | undefined>;
}

/** Making and consuming service enrollment tokens (inside a transaction); the same rules as agent tokens. */
export interface ServiceTokenWriter extends ServiceTokenReader {
  /** `DMR_CONTROL_ALREADY_EXISTS` for a reused hash. */
  create(input: ServiceTokenInput): Promise<Outcome<ServiceTokenRecord, AlreadyExists>>;
  /** Marks it used at `now`, exactly once; refusals as {@link EnrollmentTokenWriter.consume}. */
  consume(tokenHash: string, now: Date): Promise<Outcome<ServiceTokenRecord, TokenRefusal>>;
}

/** Reading the change log. It has no update or delete, on purpose. */
export interface ChangeLogReader {
  list(query?: ChangeQuery): Promise<PageOutcome<ChangeRecord>>;
}

/** Appending to the change log (inside a transaction). */
export interface ChangeLogWriter extends ChangeLogReader {
  /**
   * Queues an entry; the store writes the queued entries at the end of `fn`, in order, with the
   * transaction's final configVersion (the bumped one when the transaction bumped, else the current one),
   * so an entry is in the log exactly when the transaction committed. Not visible to `list` inside `fn`.
   */
  append(entry: ChangeInput): void;
}

/** Everything readable; the store itself and every transaction are readers. */
export interface ControlReader {
  readonly agents: AgentReader;
  readonly certificates: CertificateReader;
  readonly caState: CaStateReader;
  readonly enrollmentTokens: EnrollmentTokenReader;
  readonly policies: PolicyReader;
  readonly servers: ServerReader;
  readonly changes: ChangeLogReader;
  readonly crls: CrlReader;
  readonly serviceTokens: ServiceTokenReader;
  /** The current configVersion (0 in a new store). */
  configVersion(): Promise<number>;
}

/**
 * A write transaction. Config writes (agents create/update/delete, certificates insert/revoke, policies
 * insert) bump the configVersion exactly once per transaction: at the end of `fn` when `fn` did not call
 * `bumpConfigVersion()` itself. Server reports, tokens, CA counters and refused change entries do not bump
 * (a server report that bumped would make every server re-sync and report again, forever).
 */
export interface ControlTransaction extends ControlReader {
  readonly agents: AgentWriter;
  readonly certificates: CertificateWriter;
  readonly caState: CaStateWriter;
  readonly enrollmentTokens: EnrollmentTokenWriter;
  readonly policies: PolicyWriter;
  readonly servers: ServerWriter;
  readonly changes: ChangeLogWriter;
  readonly crls: CrlWriter;
  readonly serviceTokens: ServiceTokenWriter;
  /**
   * Bumps the configVersion by one the first time it is called in this transaction and returns the new
   * value; later calls return the same value. Visible to others only after commit.
   */
  bumpConfigVersion(): Promise<number>;
  /** The store's clock reading for this transaction (every timestamp it writes uses the same instant). */
  readonly now: IsoTime;
}

/** Options of {@link ControlStore.transaction}. */
export interface TransactionOptions {
  /**
   * How often to re-run `fn` after PostgreSQL aborted it as a deadlock or serialization failure
   * (SQLSTATE 40P01 / 40001); default 3. `fn` must therefore have no effects outside `tx`.
   */
  readonly retries?: number;
}

/** Which engine a store runs on. */
export type StoreEngine = 'sqlite' | 'postgres';

/**
 * The control plane's storage. Open it with `openControlStore(url, {log})`. Faults (connection lost,
 * constraint the caller should have prevented, text with NUL) throw `DmrError`; expected refusals are values.
 */
export interface ControlStore extends ControlReader {
  readonly engine: StoreEngine;
  /**
   * Runs `fn` in one database transaction: everything it wrote commits, or (on a throw) nothing does,
   * configVersion and change log included. Returns what `fn` returned, e.g.
   * `store.transaction(async (tx) => { await tx.agents.create(a); return tx.bumpConfigVersion(); })`.
   */
  transaction<T>(fn: (tx: ControlTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs `fn` on one consistent snapshot (e.g. the CentOps view: agents and configVersion together). */
  snapshot<T>(fn: (view: ControlReader) => Promise<T>): Promise<T>;
  /** Closes the connections; idempotent (one memoised promise). */
  close(): Promise<void>;
}
