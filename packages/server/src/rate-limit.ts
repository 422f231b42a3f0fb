import { performance } from 'node:perf_hooks';

/** Token bucket per client address, in memory. */
export interface RateLimitOptions {
  /** Burst size: requests a client may make at once (default `DEFAULT_RATE_LIMIT.burst`). */
  burst?: number;
  /** Sustained requests per second per client. */
  perSecond?: number;
  /** Most clients tracked; the least recently seen are forgotten beyond it (bounded memory). */
  maxClients?: number;
}

export const DEFAULT_RATE_LIMIT: Required<RateLimitOptions> = {
  burst: 60,
  perSecond: 10,
  maxClients: 100_000,
};

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly o: Required<RateLimitOptions>;

  constructor(
    o: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.o = { ...DEFAULT_RATE_LIMIT, ...o };
  }

  /** Takes a token for `key`; returns 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-insert below: Map order is recency order
      b.tokens = Math.min(this.o.burst, b.tokens + ((t - b.at) / 1000) * this.o.perSecond);
      b.at = t;
    } else {
      b = { tokens: this.o.burst, at: t };
      if (this.buckets.size >= this.o.maxClients) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.o.perSecond);
  }
}
