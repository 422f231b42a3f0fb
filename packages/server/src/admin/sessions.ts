import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LoginLimiter } from './login-limiter.js';

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
 * cookie). Absolute lifetime; bounded count (the oldest are dropped first). One process (the workers of
 * `scepkit serve --workers` share their primary's through `AdminSessionBackend`): behind several nodes, route
 * `/admin` to one node or sign in on each.
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

/**
 * Where the console keeps its signed-in sessions and counts failed sign-ins: in this process (`localAdminSessions`,
 * the default), or in a cluster's primary so that every worker sees the same ones.
 */
export interface AdminSessionBackend {
  /** Creates a session; the id is the cookie value (never log it). */
  create(actor: string): Promise<{ id: string; session: AdminSession }>;
  get(id: string | undefined): Promise<AdminSession | undefined>;
  delete(id: string | undefined): Promise<void>;
  /** 0 when `client` may try to sign in, else the seconds to wait. */
  loginWait(client: string): Promise<number>;
  /** Records a failed sign-in of `client`. */
  loginFailed(client: string): Promise<void>;
}

export interface LocalAdminSessionOptions {
  sessionTtlMinutes: number;
  loginBurst: number;
  loginRefillSeconds: number;
  now?: () => number;
}

/** An `AdminSessionBackend` in this process's memory. */
export function localAdminSessions(o: LocalAdminSessionOptions): AdminSessionBackend {
  const sessions = new SessionStore({
    ttlMs: o.sessionTtlMinutes * 60_000,
    ...(o.now ? { now: o.now } : {}),
  });
  const limiter = new LoginLimiter({
    burst: o.loginBurst,
    refillSeconds: o.loginRefillSeconds,
    ...(o.now ? { now: o.now } : {}),
  });
  return {
    create: async (actor) => sessions.create(actor),
    get: async (id) => sessions.get(id),
    delete: async (id) => sessions.delete(id),
    loginWait: async (client) => limiter.wait(client),
    loginFailed: async (client) => limiter.fail(client),
  };
}
