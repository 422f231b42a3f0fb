/**
 * `IntuneScepServiceException.ErrorCode` of Microsoft's CsrValidation library (Java and C#, same order),
 * plus `BadTenantIdInChallenge`, which the service returns although the library's enum lacks it
 * (Intune-Resource-Access #129).
 */
export const SCEP_ERROR_CODES = [
  'Unknown',
  'Success',
  'CertificateRequestDecodingFailed',
  'ChallengePasswordMissing',
  'ChallengeDeserializationError',
  'ChallengeDecryptionError',
  'ChallengeDecodingError',
  'ChallengeInvalidTimestamp',
  'ChallengeExpired',
  'SubjectNameMissing',
  'SubjectNameMismatch',
  'SubjectAltNameMissing',
  'SubjectAltNameMismatch',
  'KeyUsageMismatch',
  'KeyLengthMismatch',
  'EnhancedKeyUsageMissing',
  'EnhancedKeyUsageMismatch',
  'AadKeyIdentifierListMissing',
  'RegisteredKeyMismatch',
  'SigningCertThumbprintMismatch',
  'ScepProfileNoLongerTargetedToTheClient',
  'SignatureValidationFailed',
  'BadCertificateRequestIdInChallenge',
  'BadDeviceIdInChallenge',
  'BadUserIdInChallenge',
  'BadTenantIdInChallenge',
] as const;

/** An Intune SCEP validation/notification result code. */
export type ScepErrorCode = (typeof SCEP_ERROR_CODES)[number];

/** Parses a `code` from Intune (case-sensitive, as both Microsoft libraries do); unknown codes map to `Unknown`. */
export function parseScepErrorCode(raw: string): ScepErrorCode {
  return (SCEP_ERROR_CODES as readonly string[]).includes(raw) ? (raw as ScepErrorCode) : 'Unknown';
}

/**
 * `CARequestErrorCodes` for revocation results: 4000-series are non-retryable, 4100-series retryable.
 */
export const CA_REQUEST_ERROR_CODES = {
  None: 0,
  NonRetryableServiceException: 4000,
  DataSerializationError: 4001,
  ParameterDataInvalidError: 4002,
  CryptographyError: 4003,
  CertificateNotFoundError: 4004,
  ConflictError: 4005,
  NotSupportedError: 4006,
  PayloadTooLargeError: 4007,
  RetryableServiceException: 4100,
  ServiceUnavailableException: 4101,
  ServiceTooBusyException: 4102,
  AuthenticationException: 4103,
} as const;

/** Name of a CA request error code. */
export type CaRequestErrorName = keyof typeof CA_REQUEST_ERROR_CODES;
/** Numeric CA request error code (0, 4000-4007, 4100-4103). */
export type CaRequestErrorCode = (typeof CA_REQUEST_ERROR_CODES)[CaRequestErrorName];

/** True for the retryable 4100-series codes. */
export function isRetryableCaRequestError(code: CaRequestErrorCode): boolean {
  return code >= 4100 && code < 4200;
}
