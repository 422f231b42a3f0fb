/** SCEP failInfo values (RFC 8894 §3.2.1.4). Same strings as `@scepkit/scep`; `ca` does not depend on it. */
export type FailInfo = 'badAlg' | 'badMessageCheck' | 'badRequest' | 'badTime' | 'badCertId';

/** Base class of every error `@scepkit/ca` throws (except store errors, see `StoreError`). */
export class CaError<Code extends string = string> extends Error {
  readonly code: Code;
  override readonly cause: unknown;

  constructor(code: Code, message: string, cause?: unknown) {
    super(message);
    this.name = 'CaError';
    this.code = code;
    this.cause = cause;
  }
}

/** Key material could not be generated, read, decrypted or written. */
export class KeyError extends CaError<
  'unsupported-key' | 'bad-passphrase' | 'bad-format' | 'key-mismatch' | 'io'
> {
  constructor(code: KeyError['code'], message: string, cause?: unknown) {
    super(code, message, cause);
    this.name = 'KeyError';
  }
}

/** A signing backend (node:crypto or PKCS#11) failed. */
export class SignerError extends CaError<'unsupported-algorithm' | 'pkcs11' | 'sign-failed'> {
  constructor(code: SignerError['code'], message: string, cause?: unknown) {
    super(code, message, cause);
    this.name = 'SignerError';
  }
}

/** The CSR could not be parsed or refused by the issuance policy. */
export class PolicyError extends CaError<FailInfo> {
  /** Why, for logs and audit (never contains secrets). */
  readonly reason: string;

  constructor(failInfo: FailInfo, reason: string, cause?: unknown) {
    super(failInfo, reason, cause);
    this.name = 'PolicyError';
    this.reason = reason;
  }
}

/**
 * An enrollment was refused. `failInfo` and `failInfoText` go to the client (SCEP CertRep FAILURE);
 * `cause` and `message` are private (logs, audit).
 */
export class EnrollmentError extends CaError<FailInfo> {
  readonly failInfo: FailInfo;
  /** Generic text safe to send to the client. */
  readonly failInfoText: string;

  constructor(failInfo: FailInfo, message: string, options: { failInfoText?: string; cause?: unknown } = {}) {
    super(failInfo, message, options.cause);
    this.name = 'EnrollmentError';
    this.failInfo = failInfo;
    this.failInfoText = options.failInfoText ?? PUBLIC_FAIL_TEXT[failInfo];
  }
}

const PUBLIC_FAIL_TEXT: Record<FailInfo, string> = {
  badAlg: 'Unrecognized or unsupported algorithm',
  badMessageCheck: 'Integrity check failed',
  badRequest: 'Transaction not permitted or supported',
  badTime: 'Message time is too far from system time',
  badCertId: 'No certificate could be identified matching the provided criteria',
};

/** An OCSP request could not be answered (internal use; the responder answers `malformedRequest` instead). */
export class OcspError extends CaError<'malformed-request' | 'internal'> {
  constructor(code: OcspError['code'], message: string, cause?: unknown) {
    super(code, message, cause);
    this.name = 'OcspError';
  }
}
