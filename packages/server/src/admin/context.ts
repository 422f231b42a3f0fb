import type { FastifyRequest } from 'fastify';
import type { AdminConsoleOptions } from './options.js';
import type { AdminSession, AdminSessionBackend } from './sessions.js';

/** What every admin route shares. */
export interface AdminContext {
  options: AdminConsoleOptions;
  sessions: AdminSessionBackend;
  /** Name recorded by the Authority as `admin:<actor>`. */
  actor: string;
  /** The last Intune `doctor` result (or null). */
  doctor: () => unknown;
  now: () => Date;
}

const sessions = new WeakMap<FastifyRequest, AdminSession>();

export function attachSession(request: FastifyRequest, session: AdminSession): void {
  sessions.set(request, session);
}

/** The session of an authenticated API request (the auth hook ran). */
export function sessionOf(request: FastifyRequest): AdminSession {
  const s = sessions.get(request);
  if (!s) throw new Error('admin route without a session');
  return s;
}
