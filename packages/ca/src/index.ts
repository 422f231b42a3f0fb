// @scepkit/ca public API. Explicit exports only.

export { CaError, EnrollmentError, KeyError, OcspError, PolicyError, SignerError } from './errors.js';
export type { FailInfo } from './errors.js';
export { INTUNE_SID_URI_PREFIX, OID } from './oids.js';
export { fromPem, toPem } from './bytes.js';

// Signers
export type { HashName, KeyType, SignatureAlgorithm, Signer } from './signer/signer.js';
export { KeyObjectSigner, importPrivateKey } from './signer/key-object-signer.js';
export type { KeyObjectSignerOptions } from './signer/key-object-signer.js';
export { Pkcs11Signer } from './signer/pkcs11-signer.js';
export type { Pkcs11SignerOptions } from './signer/pkcs11-signer.js';

// Keys and CA material (`scepkit init`)
export { DEFAULT_CA_KEY_SPEC, DEFAULT_RA_KEY_SPEC, generatePrivateKey } from './keys/key-pair.js';
export type { KeySpec } from './keys/key-pair.js';
export {
  exportPrivateKeyPem,
  readPrivateKeyFile,
  writePrivateKeyFile,
  writeSecretFile,
} from './keys/key-files.js';
export type { KeyProtection } from './keys/key-files.js';
export { CaIdentity } from './init/ca-identity.js';
export {
  DEFAULT_CA_VALIDITY_DAYS,
  DEFAULT_RA_VALIDITY_DAYS,
  createRootCa,
  issueOcspSignerCertificate,
  issueRaCertificate,
  selfSignCa,
} from './init/root-ca.js';
export type { DelegateOptions, GeneratedCa, IssuedKeyPair, RootCaOptions } from './init/root-ca.js';
export { importCa, importPkcs12 } from './init/import-ca.js';
export type { ImportCaOptions, ImportedCa } from './init/import-ca.js';
export { nameFromString, nameToString } from './init/names.js';

// Certificates
export { buildCertificate } from './certs/certificate-builder.js';
export type { CertificateTemplate, ExtensionSpec } from './certs/certificate-builder.js';
export { signWithCa } from './certs/issue.js';
export type { IssueParams } from './certs/issue.js';
export type { KeyUsageName } from './certs/extensions.js';
export { SERIAL_BYTES, generateSerial, serialHex } from './serial.js';
export type { RandomBytes, Serial } from './serial.js';

// Issuance policy
export { parseCsr } from './policy/csr.js';
export type { CsrPublicKey, ParsedCsr } from './policy/csr.js';
export { applyPolicy } from './policy/apply-policy.js';
export type { IssuanceDecision, PolicyInput } from './policy/apply-policy.js';
export {
  DEFAULT_ALLOWED_EKU,
  DEFAULT_BACKDATE_SECONDS,
  DEFAULT_EKU,
  DEFAULT_ISSUANCE_PROFILE,
  DEFAULT_MAX_VALIDITY_DAYS,
  DEFAULT_RSA_BITS,
  DEFAULT_VALIDITY_DAYS,
  resolveProfile,
} from './policy/profile.js';
export type { IssuanceProfile, IssuanceProfileOptions } from './policy/profile.js';
export type { SanType } from './policy/san.js';

// Challenge verifiers
export type {
  ChallengeRequest,
  ChallengeResult,
  ChallengeVerifier,
  EnrollMessageType,
  IssuedCertificateInfo,
} from './challenge/types.js';
export { NoneChallengeVerifier } from './challenge/none-verifier.js';
export { StaticChallengeVerifier } from './challenge/static-verifier.js';
export type { StaticChallengeOptions } from './challenge/static-verifier.js';
export { OtpChallengeVerifier } from './challenge/otp-verifier.js';

// Intune (verifier, outbox and revocation workers)
export {
  IntuneChallengeVerifier,
  OUTBOX_KIND_FAILURE,
  failureNotification,
} from './intune/intune-verifier.js';
export type {
  FailureOutboxPayload,
  IntuneChallengeVerifierOptions,
  IntuneValidatorLike,
} from './intune/intune-verifier.js';
export { IntuneOutboxWorker, schedule } from './intune/outbox-worker.js';
export type { IntuneOutboxWorkerOptions, OutboxRunResult } from './intune/outbox-worker.js';
export { IntuneRevocationWorker, normalizeSerial } from './intune/revocation-worker.js';
export type {
  IntuneRevocationWorkerOptions,
  RevocationClientLike,
  RevocationRunResult,
} from './intune/revocation-worker.js';
export { INTUNE_HRESULTS, MAX_ERROR_DESCRIPTION, hresultHex } from './intune/hresult.js';
export { describeIntuneError } from './intune/describe-error.js';

// Enrollment
export { Authority, HRESULT_E_FAIL } from './enroll/authority.js';
export type { AuthorityOptions } from './enroll/authority.js';
export type { AuthorityLogger, EnrollRequest, EnrollResult, ProfileConfig } from './enroll/types.js';

// Revocation
export {
  CrlPublisher,
  DEFAULT_CRL_REFRESH_BEFORE_SECONDS,
  DEFAULT_CRL_VALIDITY_SECONDS,
  buildCrl,
  crlToPem,
} from './revocation/crl.js';
export type { CrlContent, CrlPublisherOptions } from './revocation/crl.js';
export { OcspResponder } from './revocation/ocsp.js';
export type {
  OcspAnswer,
  OcspCertStatus,
  OcspResponderOptions,
  OcspResponseStatus,
  OcspSingleResult,
} from './revocation/ocsp.js';

// Storage (implemented under ./store by the store owner)
export type {
  ActivityOutcome,
  ConsoleQueries,
  EnrollmentActivityQuery,
  EnrollmentActivityRow,
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
  PostgresStoreOptions,
  RevocationReason,
  RevocationReasonName,
  RevokedEntry,
  RevokeResult,
  SqliteStoreOptions,
  StoreCommonOptions,
  StoredFailInfo,
  StoreErrorCode,
  TransactionKey,
  TransactionQuery,
  TransactionRecord,
  TransactionRepository,
  TransactionState,
  TransactionUpdate,
} from './store/index.js';
export {
  ACTIVITY_ACTIONS,
  CHALLENGE_REFUSED_PREFIX,
  DEFAULT_OUTBOX_BACKOFF,
  DEFAULT_PG_SCHEMA,
  DuplicateSerialError,
  PostgresStore,
  REVOCATION_REASONS,
  SqliteStore,
  StoreError,
  TransactionStateError,
  hashChallenge,
  isPostgresUnavailable,
  isStoreUnavailable,
  outboxBackoffMs,
} from './store/index.js';

/** Package name, for diagnostics. */
export const PACKAGE_NAME = '@scepkit/ca';
export { issueTlsServerCertificate } from './init/tls-server.js';
export type { TlsServerOptions } from './init/tls-server.js';
