/** Bounded exponential backoff for calls that are safe to repeat. */
export interface RetryOptions {
  /** Total attempts including the first (default 3, at least 1). */
  attempts?: number;
  /** Delay before the 2nd attempt, doubled each time (default 200 ms). */
  baseDelayMs?: number;
  /** Upper bound of any delay, also caps `Retry-After` (default 2000 ms). */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 };

/** HTTP statuses worth retrying: 408, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** An error that may say how long to wait (from `Retry-After`). */
export interface RetryDecision {
  retry: boolean;
  retryAfterMs?: number | undefined;
}

/**
 * Runs `fn` up to `policy.attempts` times; `classify` decides whether a failure is retried.
 * The last failure is rethrown.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  classify: (err: unknown) => RetryDecision,
  policy: Required<RetryOptions>,
  sleep: (ms: number) => Promise<void>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const decision = classify(err);
      if (!decision.retry || attempt >= policy.attempts) throw err;
      const backoff = policy.baseDelayMs * 2 ** (attempt - 1);
      await sleep(Math.min(policy.maxDelayMs, Math.max(backoff, decision.retryAfterMs ?? 0)));
    }
  }
}

/** Parses `Retry-After` (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
