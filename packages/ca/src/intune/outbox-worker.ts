import { randomUUID } from 'node:crypto';
import type { AuthorityLogger } from '../enroll/types.js';
import { outboxBackoffMs } from '../store/backoff.js';
import type { CertificateStore, OutboxItem } from '../store/types.js';
import { describeIntuneError, isFinalIntuneAnswer } from './describe-error.js';
import {
  OUTBOX_KIND_FAILURE,
  failureNotification,
  type FailureOutboxPayload,
  type IntuneValidatorLike,
} from './intune-verifier.js';

export interface IntuneOutboxWorkerOptions {
  store: Pick<
    CertificateStore,
    'claimOutbox' | 'completeOutbox' | 'rescheduleOutbox' | 'markTransactionNotified'
  >;
  validator: Pick<IntuneValidatorLike, 'sendFailureNotification'>;
  /** Lease owner id, unique per node/worker (default a random UUID). */
  owner?: string;
  /** Poll interval of `start()` (default 10 s). */
  intervalMs?: number;
  /** Items claimed per poll (default 20). */
  batch?: number;
  /** Lease length (default 60 s); an item held by a crashed node is claimed again after it. */
  leaseMs?: number;
  /** Backoff between attempts (`outboxBackoffMs` defaults: 5 s doubling up to 1 h). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Give up after this many attempts (default 50, about two days with the default backoff). */
  maxAttempts?: number;
  clock?: () => Date;
  logger?: AuthorityLogger & { info?(message: string, fields?: Record<string, unknown>): void };
}

export interface OutboxRunResult {
  delivered: number;
  rescheduled: number;
  abandoned: number;
}

/**
 * Delivers Intune failure notifications queued in the durable outbox, with backoff, until Intune takes them.
 * Claims are leased, so several nodes may run it on the same store.
 *
 * @example
 * const worker = new IntuneOutboxWorker({ store, validator });
 * const stop = worker.start();
 */
export class IntuneOutboxWorker {
  readonly owner: string;
  readonly #o: IntuneOutboxWorkerOptions;
  readonly #clock: () => Date;
  #running: Promise<OutboxRunResult> | null = null;

  constructor(options: IntuneOutboxWorkerOptions) {
    this.#o = options;
    this.owner = options.owner ?? `outbox-${randomUUID()}`;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** One pass: claim due items and try each once. Concurrent calls share the pass in flight. */
  runOnce(): Promise<OutboxRunResult> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #run(): Promise<OutboxRunResult> {
    const { store } = this.#o;
    const items = await store.claimOutbox({
      owner: this.owner,
      limit: this.#o.batch ?? 20,
      leaseMs: this.#o.leaseMs ?? 60_000,
    });
    const result: OutboxRunResult = { delivered: 0, rescheduled: 0, abandoned: 0 };
    for (const item of items) {
      if (item.kind !== OUTBOX_KIND_FAILURE) continue; // another worker's kind: its lease expires
      result[await this.#deliver(item)] += 1;
    }
    return result;
  }

  async #deliver(item: OutboxItem): Promise<keyof OutboxRunResult> {
    const { store } = this.#o;
    const p = item.payload as unknown as FailureOutboxPayload;
    try {
      await this.#o.validator.sendFailureNotification(failureNotification(p));
    } catch (err) {
      const reason = describeIntuneError(err);
      if (isFinalIntuneAnswer(err) || item.attempts >= (this.#o.maxAttempts ?? 50)) {
        await store.completeOutbox(item.id, this.owner, reason);
        this.#o.logger?.warn('Intune failure notification abandoned', {
          transactionId: p.transactionId,
          attempts: item.attempts,
          reason,
        });
        return 'abandoned';
      }
      const delay = outboxBackoffMs(item.attempts, this.#o.backoff ?? {});
      await store.rescheduleOutbox(item.id, this.owner, {
        error: reason,
        nextAttemptAt: new Date(this.#clock().getTime() + delay),
      });
      return 'rescheduled';
    }
    await store.completeOutbox(item.id, this.owner);
    try {
      await store.markTransactionNotified({ transactionId: p.transactionId, profile: p.profile });
    } catch {
      // bookkeeping only
    }
    return 'delivered';
  }

  /** Runs `runOnce` every `intervalMs` until the returned function is called (it waits for a pass in flight). */
  start(): () => Promise<void> {
    return schedule(
      () => this.runOnce(),
      this.#o.intervalMs ?? 10_000,
      (err) => this.#o.logger?.warn('Intune outbox pass failed', { err: describeIntuneError(err) }),
    );
  }
}

/** A non-overlapping, unref'd timer loop; the stop function waits for the pass in flight. */
export function schedule(
  run: () => Promise<unknown>,
  intervalMs: number,
  onError: (err: unknown) => void,
): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();
  const tick = () => {
    inFlight = run()
      .catch(onError)
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(tick, intervalMs);
          timer.unref();
        }
      });
  };
  timer = setTimeout(tick, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await inFlight;
  };
}
