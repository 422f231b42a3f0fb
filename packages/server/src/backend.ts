import type { FailInfo } from '@scepkit/scep';

/**
 * What the HTTP layer needs from the certificate authority. The server owns no policy: it decodes, calls this,
 * and encodes. `@scepkit/ca`'s Authority is adapted to it by the CLI (or by `authorityBackend`).
 */
export interface ScepBackend {
  /**
   * PKCSReq, RenewalReq or CertPoll. Throw an error carrying `failInfo` (e.g. `EnrollmentError`) to refuse:
   * the client receives a signed FAILURE with that failInfo and the error's public `failInfoText`. Any other
   * error is our fault (HTTP 500), except a store out of reach (`StoreError` code `unavailable`: HTTP 503).
   */
  enroll(request: EnrollRequest): Promise<EnrollResult>;
  /** GetCert (RFC 8894 §3.3.4): the certificate, or undefined when unknown (=> FAILURE badCertId). */
  getCert(issuer: Uint8Array, serial: Uint8Array): Promise<Uint8Array | undefined>;
  /** The current CRL (for `/crl` and GetCRL). */
  getCrl(): Promise<CrlInfo>;
  /** RFC 6960: answers a DER OCSPRequest with a DER OCSPResponse (malformedRequest included). */
  ocsp(request: Uint8Array): Promise<Uint8Array>;
  /** Is the store reachable? Used by `/healthz`; absent means "not checked". */
  health?(): Promise<{ store: boolean }>;
  /**
   * Certificates in the store (all nodes, all revocations whoever made them), exported by `/metrics` as the gauge
   * `scepkit_certificates{status}`; absent means not exported.
   */
  certificateCounts?(): Promise<{ issued: number; revoked: number; expiring: number }>;
}

/** An authenticated, decrypted enrollment request. */
export interface EnrollRequest {
  /** The endpoint (profile) the request arrived on, e.g. `intune`. */
  endpoint: string;
  messageType: 'PKCSReq' | 'RenewalReq' | 'CertPoll';
  transactionId: string;
  /** PKCSReq/RenewalReq: DER PKCS#10 (contains the challenge: never log it). */
  csr?: Uint8Array;
  /** CertPoll: DER issuer and subject Names (RFC 8894 §3.3.3). */
  issuer?: Uint8Array;
  subject?: Uint8Array;
  /** The certificate that signed the pkiMessage (self-signed for PKCSReq, the existing one for RenewalReq). */
  signerCertificate: Uint8Array;
  remoteAddress: string;
  /**
   * A backend may call this with a certificate and its chain once signed, before it is stored: the server starts
   * building the CertRep while the store commits. Only the certificates `enroll` resolves with are ever sent.
   */
  onSigned?: (certificates: readonly Uint8Array[]) => void;
}

export type EnrollResult =
  | {
      status: 'SUCCESS';
      /** The issued certificate first, then its chain. */
      certificates: readonly Uint8Array[];
    }
  | { status: 'PENDING' }
  | { status: 'FAILURE'; failInfo: FailInfo; failInfoText?: string };

export interface CrlInfo {
  der: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/** Duck-typed refusal (`EnrollmentError` of `@scepkit/ca` matches), so the server need not import its classes. */
export interface RefusalLike {
  failInfo: FailInfo;
  failInfoText?: string;
}

const FAIL_INFO_NAMES = new Set<string>(['badAlg', 'badMessageCheck', 'badRequest', 'badTime', 'badCertId']);

export function isRefusal(err: unknown): err is RefusalLike {
  if (typeof err !== 'object' || err === null) return false;
  const f = (err as { failInfo?: unknown }).failInfo;
  return typeof f === 'string' && FAIL_INFO_NAMES.has(f);
}
