import {
  IntuneHttpError,
  IntuneNetworkError,
  IntuneServiceError,
  IntuneServiceNotFoundError,
  IntuneTokenError,
} from '@scepkit/intune';

/**
 * A one-line, secret-free description of an Intune client failure, naming the Intune code when there is one
 * (e.g. `Intune: ChallengeExpired`, `Intune: HTTP 500 InternalError`, `Intune token: INVALID_CLIENT_SECRET`).
 */
export function describeIntuneError(err: unknown): string {
  if (err instanceof IntuneServiceError) return `Intune: ${err.code}`;
  if (err instanceof IntuneHttpError) {
    return `Intune: HTTP ${err.status}${err.odataCode ? ` ${err.odataCode}` : ''}`;
  }
  if (err instanceof IntuneTokenError) {
    return `Intune token: ${err.code}${err.aadsts ? ` (${err.aadsts})` : ''}`;
  }
  if (err instanceof IntuneNetworkError) return `Intune: ${err.code}`;
  if (err instanceof IntuneServiceNotFoundError) return `Intune: ${err.code}`;
  if (err instanceof Error) return `Intune: ${err.name}: ${err.message}`.slice(0, 200);
  return 'Intune: unknown error';
}

/** Whether Intune answered with a final result code (retrying the same call would get the same answer). */
export function isFinalIntuneAnswer(err: unknown): boolean {
  return err instanceof IntuneServiceError;
}
