/** Codes of `EmulatorError`: misuse of the emulator's own API (admin calls, options, test helpers). */
export type EmulatorErrorCode =
  'NOT_FOUND' | 'CONFLICT' | 'INVALID_ARGUMENT' | 'PROFILE_VARIABLE_UNAVAILABLE' | 'NOT_STARTED';

/** An error of the emulator's API, with a machine-readable `code` and the optional underlying `cause`. */
export class EmulatorError<Code extends EmulatorErrorCode = EmulatorErrorCode> extends Error {
  override readonly name = 'EmulatorError';
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A challenge or CSR check that failed; `code` is the Intune `ScepActions` error code answered to the caller
 * (docs/intune-api.md §1.6).
 */
export class ChallengeValidationError extends Error {
  override readonly name = 'ChallengeValidationError';
  constructor(
    readonly code: string,
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${description}`, options);
  }
}
