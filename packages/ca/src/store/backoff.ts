/** Defaults of `outboxBackoffMs`. */
export const DEFAULT_OUTBOX_BACKOFF = { baseMs: 5_000, maxMs: 60 * 60 * 1000 } as const;

/**
 * Exponential backoff for outbox retries: `baseMs * 2^(attempts-1)`, capped at `maxMs`, with up to 20 % jitter
 * subtracted (`random` in [0, 1), default `Math.random`) so that nodes do not retry in lockstep.
 *
 * @example
 * const next = new Date(now.getTime() + outboxBackoffMs(item.attempts));
 * await store.rescheduleOutbox(item.id, owner, { error: 'HTTP 503', nextAttemptAt: next });
 */
export function outboxBackoffMs(
  attempts: number,
  options: { baseMs?: number; maxMs?: number; random?: () => number } = {},
): number {
  const base = options.baseMs ?? DEFAULT_OUTBOX_BACKOFF.baseMs;
  const max = options.maxMs ?? DEFAULT_OUTBOX_BACKOFF.maxMs;
  const exp = Math.min(max, base * 2 ** Math.max(0, Math.min(attempts - 1, 40)));
  const jitter = (options.random ?? Math.random)() * 0.2;
  return Math.round(exp * (1 - jitter));
}
