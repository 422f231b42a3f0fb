/**
 * @scepkit/server: the HTTP transport of scepkit (decode -> authority -> encode), with CRL, OCSP, health and
 * metrics routes.
 */
export { createScepServer } from './server.js';
export type { ScepServer } from './server.js';
export { DEFAULT_LIMITS, DEFAULT_PATHS, DEFAULT_SCEP_ALIASES, DEFAULT_TLS_CIPHERS } from './options.js';
export type { ScepEndpointOptions, ScepServerOptions, ServerLimits, TlsOptions } from './options.js';
export type { ScepBackend, EnrollRequest, EnrollResult, CrlInfo, RefusalLike } from './backend.js';
export { isRefusal } from './backend.js';
export type { ScepPkiOptions } from './pki.js';
export { DEFAULT_CAPABILITIES } from './scep-route.js';
export { FAIL_INFO_TEXT } from './pki-operation.js';
export { createMetrics } from './metrics.js';
export type { ScepMetrics, MetricsOptions } from './metrics.js';
export { DEFAULT_RATE_LIMIT } from './rate-limit.js';
export type { RateLimitOptions } from './rate-limit.js';
export { CRL_CONTENT_TYPE } from './crl-route.js';
export { OCSP_CONTENT_TYPES } from './ocsp-route.js';
export type { HealthReport } from './health-route.js';
export { ServerError } from './errors.js';
export type { ServerErrorCode } from './errors.js';
export { authorityBackend } from './authority-backend.js';
export type {
  AuthorityBackendOptions,
  AuthorityLike,
  CrlSourceLike,
  OcspResponderLike,
  CertificateLookupLike,
} from './authority-backend.js';
export {
  ADMIN_PREFIX,
  DEFAULT_ADMIN,
  DEFAULT_SCRYPT,
  hashPassword,
  localAdminSessions,
  parsePasswordHash,
  registerAdminConsole,
  verifyPassword,
} from './admin/index.js';
export type {
  AdminAuthority,
  AdminConsoleOptions,
  AdminKeyCertificate,
  AdminSession,
  AdminSessionBackend,
  AdminStore,
  LocalAdminSessionOptions,
} from './admin/index.js';
export {
  PrimaryUnreachableError,
  servePrimaryState,
  workerAdminSessions,
  workerClusterMetrics,
  offerMetricsToPrimary,
} from './cluster.js';
export type { PrimaryState } from './cluster.js';
