import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminContext } from './context.js';
import {
  CLEAR_SESSION_COOKIE,
  SESSION_COOKIE,
  cookieValue,
  parseInput,
  secureContext,
  sendError,
  sessionCookie,
} from './http.js';
import { DEFAULT_ADMIN } from './options.js';
import { parsePasswordHash, verifyPassword } from './password.js';

const LoginBody = z.object({ password: z.string().min(1).max(1024) }).strict();
/** scrypt takes 32 MiB and ~0.1 s: at most this many run at once. */
const MAX_CONCURRENT_VERIFICATIONS = 4;

/** `POST /api/login`, `POST /api/logout`, `GET /api/session`. */
export function registerAuthRoutes(api: FastifyInstance, x: AdminContext): void {
  const hash = parsePasswordHash(x.options.passwordHash);
  const ttlMs = (x.options.sessionTtlMinutes ?? DEFAULT_ADMIN.sessionTtlMinutes) * 60_000;
  let verifying = 0;
  const audit = (action: string, remoteAddress: string) =>
    x.options.store.appendAudit({ actor: `admin:${x.actor}`, action, details: { remoteAddress } });

  api.post('/login', async (request, reply) => {
    const body = parseInput(reply, LoginBody, request.body);
    if (!body) return reply;
    if (!secureContext(request)) {
      return sendError(
        reply,
        403,
        'https-required',
        'sign in over HTTPS (or from a loopback address): the session cookie is Secure',
      );
    }
    const wait = await x.sessions.loginWait(request.ip);
    if (wait > 0 || verifying >= MAX_CONCURRENT_VERIFICATIONS) {
      reply.header('retry-after', String(Math.max(wait, 1)));
      return sendError(reply, 429, 'too-many-attempts', 'too many failed sign-ins: try again later');
    }
    verifying++;
    let ok: boolean;
    try {
      ok = await verifyPassword(body.password, hash);
    } finally {
      verifying--;
    }
    if (!ok) {
      await x.sessions.loginFailed(request.ip);
      await audit('login-failed', request.ip);
      return sendError(reply, 401, 'bad-credentials', 'wrong password');
    }
    const { id, session } = await x.sessions.create(x.actor);
    await audit('login', request.ip);
    return reply
      .header('set-cookie', sessionCookie(id, Math.floor(ttlMs / 1000)))
      .header('cache-control', 'no-store')
      .send({ actor: session.actor, csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAt) });
  });

  api.get('/session', async (request, reply) => {
    const session = await x.sessions.get(cookieValue(request, SESSION_COOKIE));
    if (!session) return sendError(reply, 401, 'unauthenticated', 'sign in first');
    return reply
      .header('cache-control', 'no-store')
      .send({ actor: session.actor, csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAt) });
  });

  api.post('/logout', async (request, reply) => {
    const id = cookieValue(request, SESSION_COOKIE);
    if (await x.sessions.get(id)) await audit('logout', request.ip);
    await x.sessions.delete(id);
    return reply.header('set-cookie', CLEAR_SESSION_COOKIE).code(204).send();
  });
}
