/** What went wrong in a scepkit command, in words for the terminal. */
export type CliErrorCode = 'config' | 'scep' | 'fingerprint' | 'enroll' | 'io' | 'usage';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
