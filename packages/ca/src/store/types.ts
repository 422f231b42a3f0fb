import type { ConsoleQueries } from './activity.js';

/**
 * The storage interface of the certificate authority. `ca` owns it; `SqliteStore` and `PostgresStore`
 * implement it and pass one conformance suite (`conformance.ts`).
 *
 * Conventions:
 * - serials are lowercase hex of the positive integer, without leading zeros (`/^[1-9a-f][0-9a-f]{0,39}$/`);
 * - thumbprints are lowercase hex SHA-1 of the certificate DER, computed by the store;
 * - times are `Date` (millisecond precision); "now" comes from the store's injected clock unless passed in;
 * - DER is returned as a plain `Uint8Array`;
 * - every mutating method that takes an `audit` argument appends that event in the same database transaction.
 *
 * @example
 * const store = new SqliteStore({ filename: '/var/lib/scepkit/ca.db' });
 * await store.migrate();
 * const { transaction, created } = await store.beginTransaction({ transactionId, profile: 'intune', requestHash });
 * const cert = await store.issue({ certificate: { serial, der, subject, sans, notBefore, notAfter, profile: 'intune' },
 *   transaction: { transactionId, profile: 'intune' }, audit: { actor: 'scep', action: 'issue' } });
 */

/** RFC 5280 §5.3.1 CRLReason codes (7 is unused). */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReasonName = keyof typeof REVOCATION_REASONS;
/** A numeric RFC 5280 CRLReason code. */
export type RevocationReason = (typeof REVOCATION_REASONS)[RevocationReasonName];

/** SCEP failInfo names (RFC 8894 §3.2.1.4); same strings as `@scepkit/scep`'s `FailInfo`. */
export type StoredFailInfo = 'badAlg' | 'badMessageCheck' | 'badRequest' | 'badTime' | 'badCertId';

export type CertificateStatus = 'valid' | 'revoked';

/** What the caller supplies to store a newly issued certificate (parsed from the certificate it just signed). */
export interface NewCertificate {
  /** Lowercase hex, no leading zeros; unique across the store. */
  serial: string;
  der: Uint8Array;
  /** Subject DN as a string (e.g. `CN=device-1,O=Example`). */
  subject: string;
  /** Subject alternative names, each prefixed: `dns:x`, `email:x`, `upn:x`, `uri:x`, `ip:x`. No newlines. */
  sans: readonly string[];
  notBefore: Date;
  notAfter: Date;
  /** The issuing profile / SCEP endpoint name. */
  profile: string;
  /** Intune device id, if known. */
  deviceId?: string | null;
  /**
   * SCEP transactionID to record on an out-of-band issuance (when `IssueInput.transaction` is omitted);
   * ignored when `transaction` is given (its id is recorded).
   */
  transactionId?: string | null;
}

/** A stored certificate. */
export interface CertificateRecord {
  serial: string;
  der: Uint8Array;
  subject: string;
  sans: string[];
  notBefore: Date;
  notAfter: Date;
  /** Lowercase hex SHA-1 of `der`. */
  thumbprint: string;
  status: CertificateStatus;
  revokedAt: Date | null;
  revocationReason: RevocationReason | null;
  profile: string;
  /** SCEP transactionID the certificate was issued for, if any. */
  transactionId: string | null;
  deviceId: string | null;
  createdAt: Date;
}

/** Filters for `searchCertificates`. All given filters must match. Results are newest first. */
export interface CertificateQuery {
  /**
   * Case-insensitive substring of the subject (`%` and `_` are literal). SQLite folds ASCII letters only;
   * PostgreSQL (ILIKE) also folds other letters.
   */
  subject?: string;
  /** Case-insensitive substring of any SAN (including its prefix, e.g. `dns:host`); same folding as `subject`. */
  san?: string;
  /** Prefix of the serial (lowercase hex). */
  serialPrefix?: string;
  status?: CertificateStatus;
  /** Only certificates whose notAfter is strictly before this date. */
  expiringBefore?: Date;
  profile?: string;
  deviceId?: string;
  /** Exact SCEP transactionID recorded on the certificate. */
  transactionId?: string;
  /** Default 100, at most 1000. */
  limit?: number;
  offset?: number;
}

export interface CertificateCounts {
  /** Every certificate ever stored. */
  issued: number;
  revoked: number;
  /** Status valid, notAfter in [now, now + expiringWithinDays). */
  expiring: number;
}

/** An entry of a CRL (RFC 5280 §5.1.2.6). */
export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
  notAfter: Date;
}

export type RevokeResult = 'revoked' | 'already-revoked' | 'not-found';

/** A transaction is keyed by SCEP transactionID and profile. */
export interface TransactionKey {
  transactionId: string;
  profile: string;
}

/**
 * `pending`: received, not decided (or waiting for manual approval, then `csr` is kept);
 * `approved`: an admin approved a pending request; the CA issues on the next poll;
 * `issued`, `failed`, `rejected`: final.
 */
export type TransactionState = 'pending' | 'approved' | 'issued' | 'failed' | 'rejected';

export interface TransactionRecord extends TransactionKey {
  /** Hex SHA-256 of the CSR's SubjectPublicKeyInfo DER. */
  requestHash: string;
  state: TransactionState;
  /** The issued certificate's serial once `issued`. */
  serial: string | null;
  failInfo: StoredFailInfo | null;
  /** Human-readable reason of a failure or rejection (never secrets). */
  reason: string | null;
  /** The CSR DER, kept while `pending`/`approved`; cleared when final. */
  csr: Uint8Array | null;
  /** Whether the Intune success/failure notification was delivered. */
  notified: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface BeginTransactionInput extends TransactionKey {
  requestHash: string;
  /** Keep the CSR (for manual approval or issuing on a later poll). */
  csr?: Uint8Array | null;
}

export interface BeginTransactionResult {
  transaction: TransactionRecord;
  /** True for the one caller that created the record; false when it already existed (compare `requestHash`). */
  created: boolean;
}

/**
 * A state change through `updateTransaction`. Allowed: pending -> approved | failed | rejected,
 * approved -> failed | rejected. (`issued` is only reached through `issue`.)
 */
export type TransactionUpdate =
  | { state: 'approved' }
  | { state: 'failed' | 'rejected'; failInfo?: StoredFailInfo | null; reason?: string | null };

export interface TransactionQuery {
  state?: TransactionState;
  profile?: string;
  /** Default 100, at most 1000. */
  limit?: number;
  offset?: number;
}

/** Input of an audit event. `time` defaults to the store clock. */
export interface AuditEventInput {
  /** Who decided: `scep`, `admin:<name>`, `intune`, `system`. */
  actor: string;
  /** What: e.g. `issue`, `reject`, `approve`, `revoke`, `challenge-consume`. Non-empty. */
  action: string;
  transactionId?: string | null;
  serial?: string | null;
  subject?: string | null;
  /** JSON-serialisable details (never secrets). */
  details?: Record<string, unknown>;
  time?: Date;
}

export interface AuditEvent {
  /** Increasing id (insertion order). */
  id: number;
  time: Date;
  actor: string;
  action: string;
  transactionId: string | null;
  serial: string | null;
  subject: string | null;
  details: Record<string, unknown>;
}

/** Filters for `queryAudit`. Results are newest first. */
export interface AuditQuery {
  actor?: string;
  action?: string;
  transactionId?: string;
  serial?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Only events with a smaller id (keyset paging: pass the last id of the previous page). */
  beforeId?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** The input of `issue`. */
export interface IssueInput {
  certificate: NewCertificate;
  /** The transaction that becomes `issued` (must be `pending` or `approved`). Omit for out-of-band issuance. */
  transaction?: TransactionKey;
  audit: AuditEventInput;
}

export interface MintChallengeInput {
  expiresAt: Date;
  /** Restrict the challenge to one profile; unrestricted when omitted. */
  profile?: string | null;
  /** Use this password instead of a random one (tests, imports). */
  password?: string;
}

export interface MintedChallenge {
  /** The one-time password; only its SHA-256 is stored. Show it once, never log it. */
  password: string;
  expiresAt: Date;
}

export type ConsumeChallengeResult = 'ok' | 'not-found' | 'expired' | 'used';

/** The last CRL published, shared by every node. */
export interface CrlRecord {
  crlNumber: bigint;
  der: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
}

export interface EnqueueOutboxInput {
  /** E.g. `intune-success`, `intune-failure`, `intune-revocation-result`. */
  kind: string;
  payload: Record<string, unknown>;
  /** When an item with the same key already exists, it is returned instead of a new one. */
  dedupeKey?: string | null;
  /** First attempt time; defaults to now. */
  notBefore?: Date;
}

export interface OutboxItem {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  dedupeKey: string | null;
  /** Number of claims so far (incremented by `claimOutbox`). */
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  done: boolean;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
}

export interface ClaimOutboxInput {
  /** Unique id of the claiming node/worker. */
  owner: string;
  /** Maximum items to claim. */
  limit: number;
  /** How long the claim lasts; after that another owner may claim the item. */
  leaseMs: number;
}

/** Outcome of an Intune revocation request, recorded so it is applied once. */
export interface IntuneRevocationRecord {
  requestContext: string;
  serial: string | null;
  result: string;
  processedAt: Date;
}

/** Certificates: issue, look up, search, count, revoke. */
export interface CertificateRepository {
  /**
   * In ONE database transaction: insert the certificate, set the transaction (if given) to `issued` with its
   * serial, append the audit event. All or nothing.
   * @throws DuplicateSerialError when the serial exists (retry with a new serial)
   * @throws TransactionStateError when the transaction is missing or not `pending`/`approved`
   */
  issue(input: IssueInput): Promise<CertificateRecord>;
  getCertificate(serial: string): Promise<CertificateRecord | null>;
  getCertificateByThumbprint(thumbprint: string): Promise<CertificateRecord | null>;
  searchCertificates(query: CertificateQuery): Promise<CertificateRecord[]>;
  countCertificates(options: { expiringWithinDays: number; now?: Date }): Promise<CertificateCounts>;
  /**
   * Revoke (RFC 5280 reason). A certificate on hold (6) may be revoked again with a final reason.
   * The audit event, if given, is appended only when the state changed.
   * @throws StoreError `invalid-input` for reason 7 (unused) or 8 (removeFromCRL exists only in delta CRLs)
   */
  revoke(
    serial: string,
    reason: RevocationReason,
    time: Date,
    audit?: AuditEventInput,
  ): Promise<RevokeResult>;
  /** Revoked entries for a CRL, by serial; `notExpiredAt` drops certificates expired before that time. */
  listRevoked(options?: { notExpiredAt?: Date }): Promise<RevokedEntry[]>;
}

/** SCEP transactions. */
export interface TransactionRepository {
  /** Create the record in state `pending`, or return the existing one. Concurrent callers: exactly one creates. */
  beginTransaction(input: BeginTransactionInput, audit?: AuditEventInput): Promise<BeginTransactionResult>;
  getTransaction(key: TransactionKey): Promise<TransactionRecord | null>;
  listTransactions(query: TransactionQuery): Promise<TransactionRecord[]>;
  /**
   * Compare-and-set state change (see `TransactionUpdate`), with an optional audit event in the same transaction.
   * @throws TransactionStateError (`transaction-not-found` | `invalid-transition`)
   */
  updateTransaction(
    key: TransactionKey,
    update: TransactionUpdate,
    audit?: AuditEventInput,
  ): Promise<TransactionRecord>;
  /** Record that the Intune notification was delivered. Returns false if no such transaction. */
  markTransactionNotified(key: TransactionKey): Promise<boolean>;
}

/** Append-only audit log. */
export interface AuditLog {
  appendAudit(event: AuditEventInput): Promise<AuditEvent>;
  queryAudit(query: AuditQuery): Promise<AuditEvent[]>;
}

/** One-time challenge passwords; only SHA-256 hashes are stored. */
export interface ChallengeStore {
  mintChallenge(input: MintChallengeInput): Promise<MintedChallenge>;
  /**
   * Atomically consume: exactly one concurrent caller gets `ok`, later ones `used`; `expired` once
   * `now >= expiresAt`. A challenge minted for a profile matches only when the same `profile` is passed
   * (otherwise `not-found`); an unrestricted one matches any.
   */
  consumeChallenge(
    password: string,
    options?: { profile?: string; now?: Date },
  ): Promise<ConsumeChallengeResult>;
  /** Delete challenges that expired before `before`; returns how many. */
  purgeChallenges(before: Date): Promise<number>;
}

/** CRL numbering and the shared last CRL. */
export interface CrlStore {
  /** Strictly increasing across all nodes, starting at 1 (RFC 5280 §5.2.3). */
  nextCrlNumber(): Promise<bigint>;
  /** Store the CRL unless a CRL with a greater or equal number is already stored. Returns whether stored. */
  saveCrl(crl: CrlRecord): Promise<boolean>;
  getLatestCrl(): Promise<CrlRecord | null>;
}

/** Durable outbox for Intune notifications, leased so that two nodes never hold the same item at once. */
export interface Outbox {
  enqueueOutbox(input: EnqueueOutboxInput): Promise<OutboxItem>;
  /** Lease up to `limit` due items (not done, nextAttemptAt <= now, lease absent or expired); attempts += 1. */
  claimOutbox(input: ClaimOutboxInput): Promise<OutboxItem[]>;
  /** Mark done (`error` set: given up). Only the current lease owner may; returns whether it did. */
  completeOutbox(id: number, owner: string, error?: string): Promise<boolean>;
  /** Release the lease and retry at `nextAttemptAt` (see `outboxBackoffMs`). Only the lease owner may. */
  rescheduleOutbox(
    id: number,
    owner: string,
    options: { error: string; nextAttemptAt: Date },
  ): Promise<boolean>;
  getOutboxItem(id: number): Promise<OutboxItem | null>;
  /** Delete done items created before `before` (retention); returns how many. Pending items are kept. */
  purgeOutbox(before: Date): Promise<number>;
}

/**
 * Intune revocation requests already processed (by request context). Revoke first (idempotent), then record;
 * skip requests for which `getIntuneRevocation` returns a record.
 */
export interface IntuneRevocationLog {
  /** Returns `recorded` for the first caller, `duplicate` afterwards (across nodes). */
  recordIntuneRevocation(record: IntuneRevocationRecord): Promise<'recorded' | 'duplicate'>;
  getIntuneRevocation(requestContext: string): Promise<IntuneRevocationRecord | null>;
}

/** Everything the CA stores. */
export interface CertificateStore
  extends
    CertificateRepository,
    TransactionRepository,
    AuditLog,
    ChallengeStore,
    CrlStore,
    Outbox,
    IntuneRevocationLog,
    ConsoleQueries {
  /** Apply numbered schema migrations (idempotent, safe to run concurrently). Returns the schema version. */
  migrate(): Promise<number>;
  /** Release connections / close the database. Further calls fail with `StoreError('closed')`. */
  close(): Promise<void>;
}

/** Options shared by both implementations. */
export interface StoreCommonOptions {
  /** Clock for created/updated times and defaults; defaults to `() => new Date()`. */
  clock?: () => Date;
  /** Randomness for minted challenges; defaults to `crypto.randomBytes`. */
  randomBytes?: (size: number) => Uint8Array;
}
