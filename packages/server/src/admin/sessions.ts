import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** One signed-in administrator. */
export interface AdminSession {
  /** Who, as written in the audit log (e.g. `console`, recorded as `admin:console`). */
  actor: string;
  /** Sent back in `x-csrf-token` on every state-changing request. */
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * Sessions in memory, keyed by the SHA-256 of a random 256-bit id (the id itself lives only in the browser's
 * cookie). Absolute lifetime; bounded count (the oldest are dropped first). One process: behind several nodes,
 * route `/admin` to one node or sign in on each.
 */
export class SessionStore {
  readonly #sessions = new Map<string, AdminSession>();

  constructor(private readonly o: { ttlMs: number; max?: number; now?: () => number }) {}

  #now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** Creates a session; returns the cookie value (never log it). */
  create(actor: string): { id: string; session: AdminSession } {
    const now = this.#now();
    this.#sweep(now);
    const max = this.o.max ?? 1000;
    while (this.#sessions.size >= max) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done) break;
      this.#sessions.delete(oldest.value);
    }
    const id = randomBytes(32).toString('base64url');
    const session: AdminSession = {
      actor,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      expiresAt: now + this.o.ttlMs,
    };
    this.#sessions.set(key(id), session);
    return { id, session };
  }

  get(id: string | undefined): AdminSession | undefined {
    if (!id || id.length > 100) return undefined;
    const k = key(id);
    const s = this.#sessions.get(k);
    if (!s) return undefined;
    if (s.expiresAt <= this.#now()) {
      this.#sessions.delete(k);
      return undefined;
    }
    return s;
  }

  delete(id: string | undefined): void {
    if (id) this.#sessions.delete(key(id));
  }

  get size(): number {
    return this.#sessions.size;
  }

  #sweep(now: number): void {
    for (const [k, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(k);
  }
}

function key(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** Constant-time comparison of two tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
