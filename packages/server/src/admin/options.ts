import type { Authority, CertificateStore } from '@scepkit/ca';
import type { AdminSessionBackend } from './sessions.js';

/** What the console reads and writes in the store. */
export type AdminStore = Pick<
  CertificateStore,
  | 'searchCertificates'
  | 'getCertificate'
  | 'countCertificates'
  | 'listTransactions'
  | 'getTransaction'
  | 'queryAudit'
  | 'appendAudit'
  | 'enrollmentActivity'
>;

/** The Authority's admin actions (revocation re-publishes the CRL; approve/reject audit as `admin:<actor>`). */
export type AdminAuthority = Pick<Authority, 'revoke' | 'approve' | 'reject'>;

/** A certificate the CA runs on, shown on the dashboard with its expiry. */
export interface AdminKeyCertificate {
  role: 'CA' | 'issuer' | 'RA' | 'OCSP' | 'next CA' | 'TLS';
  der: Uint8Array;
}

export interface AdminConsoleOptions {
  /** `scrypt$N$r$p$salt$hash` (see `hashPassword`), from a 0600 file or the config. */
  passwordHash: string;
  /** Name recorded in the audit log as `admin:<name>`; default `DEFAULT_ADMIN.actor`. */
  actor?: string;
  /** Absolute session lifetime; default `DEFAULT_ADMIN.sessionTtlMinutes`. */
  sessionTtlMinutes?: number;
  store: AdminStore;
  authority: AdminAuthority;
  /** The CA certificate and its issuers (nearest first): each certificate's chain in its detail view. */
  chain: readonly Uint8Array[];
  /** CA, RA, OCSP (...) certificates for the dashboard. */
  certificates: readonly AdminKeyCertificate[];
  /** Profiles whose enrollments Intune validates (to show the notification status). */
  intuneProfiles?: readonly string[];
  /** Failed logins allowed per client address: a burst, then one per `loginRefillSeconds`. */
  loginBurst?: number;
  loginRefillSeconds?: number;
  /**
   * Where sessions and failed sign-ins are kept; default this process's memory (built from the options above).
   * The workers of a cluster pass one backed by their primary, so a session works on every worker.
   */
  sessions?: AdminSessionBackend;
  clock?: () => Date;
}

export const DEFAULT_ADMIN = {
  actor: 'console',
  sessionTtlMinutes: 60,
  loginBurst: 5,
  loginRefillSeconds: 60,
} as const;

/** The mount point. */
export const ADMIN_PREFIX = '/admin';
