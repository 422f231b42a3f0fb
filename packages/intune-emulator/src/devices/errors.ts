/** Codes of `DeviceError`: why a simulated device could not enroll. */
export type DeviceErrorCode =
  | 'HTTP'
  | 'CA_THUMBPRINT_MISMATCH'
  | 'NO_RECIPIENT'
  | 'SCEP_FAILURE'
  | 'STILL_PENDING'
  | 'NO_CERTIFICATE'
  | 'NO_PAYLOAD';

/** A simulated device's enrollment failure, with a machine-readable `code`. */
export class DeviceError<Code extends DeviceErrorCode = DeviceErrorCode> extends Error {
  override readonly name = 'DeviceError';
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
