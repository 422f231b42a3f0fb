/**
 * Failed sign-ins per client address: a token bucket that only failures drain (`burst` at once, then one per
 * `refillSeconds`). Bounded memory: the least recently seen addresses are forgotten first.
 */
export class LoginLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly o: { burst: number; refillSeconds: number; maxClients?: number; now?: () => number },
  ) {}

  #bucket(key: string) {
    const now = this.o.now?.() ?? Date.now();
    let b = this.#buckets.get(key);
    if (b) {
      this.#buckets.delete(key);
      b.tokens = Math.min(this.o.burst, b.tokens + (now - b.at) / 1000 / this.o.refillSeconds);
      b.at = now;
    } else {
      b = { tokens: this.o.burst, at: now };
      if (this.#buckets.size >= (this.o.maxClients ?? 10_000)) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
    }
    this.#buckets.set(key, b);
    return b;
  }

  /** 0 when `key` may try, else the seconds to wait. */
  wait(key: string): number {
    const b = this.#bucket(key);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) * this.o.refillSeconds);
  }

  fail(key: string): void {
    this.#bucket(key).tokens -= 1;
  }
}
