export type {
  AuditEvent,
  AuditEventInput,
  AuditLog,
  AuditQuery,
  BeginTransactionInput,
  BeginTransactionResult,
  CertificateCounts,
  CertificateQuery,
  CertificateRecord,
  CertificateRepository,
  CertificateStatus,
  CertificateStore,
  ChallengeStore,
  ClaimOutboxInput,
  ConsumeChallengeResult,
  CrlRecord,
  CrlStore,
  EnqueueOutboxInput,
  IntuneRevocationLog,
  IntuneRevocationRecord,
  IssueInput,
  MintChallengeInput,
  MintedChallenge,
  NewCertificate,
  Outbox,
  OutboxItem,
  RevocationReason,
  RevocationReasonName,
  RevokedEntry,
  RevokeResult,
  StoreCommonOptions,
  StoredFailInfo,
  TransactionKey,
  TransactionQuery,
  TransactionRecord,
  TransactionRepository,
  TransactionState,
  TransactionUpdate,
} from './types.js';
export { REVOCATION_REASONS } from './types.js';
export { ACTIVITY_ACTIONS, CHALLENGE_REFUSED_PREFIX } from './activity.js';
export type {
  ActivityOutcome,
  ConsoleQueries,
  EnrollmentActivityQuery,
  EnrollmentActivityRow,
} from './activity.js';
export {
  DuplicateSerialError,
  StoreError,
  TransactionStateError,
  isPostgresUnavailable,
  isStoreUnavailable,
} from './errors.js';
export type { StoreErrorCode } from './errors.js';
export { SqliteStore } from './sqlite/sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { DEFAULT_PG_SCHEMA, PostgresStore } from './postgres/postgres-store.js';
export type { PostgresStoreOptions } from './postgres/postgres-store.js';
export { DEFAULT_OUTBOX_BACKOFF, outboxBackoffMs } from './backoff.js';
export { hashChallenge } from './validate.js';
