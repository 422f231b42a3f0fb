import type { FastifyInstance } from 'fastify';
import { isStoreUnavailable } from '@scepkit/ca';
import { PrimaryUnreachableError } from '../cluster.js';
import { contextOf, refuse } from '../request-context.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerCertificateRoutes } from './certificate-routes.js';
import type { AdminContext } from './context.js';
import { attachSession } from './context.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { CSRF_HEADER, SESSION_COOKIE, cookieValue, sameOrigin, sendError } from './http.js';
import type { AdminConsoleOptions } from './options.js';
import { ADMIN_PREFIX, DEFAULT_ADMIN } from './options.js';
import { parsePasswordHash } from './password.js';
import { registerRequestRoutes } from './request-routes.js';
import { localAdminSessions, sameToken } from './sessions.js';
import { loadStaticFiles } from './static-files.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** API routes a visitor without a session may call. */
const PUBLIC_API = new Set([`${ADMIN_PREFIX}/api/login`, `${ADMIN_PREFIX}/api/session`]);

/**
 * The admin console under `/admin`: static UI (Preact + htm, no bundler) and a JSON API behind a password,
 * server-side sessions (Secure, HttpOnly, SameSite=Strict cookie) and CSRF tokens. Registered only when
 * configured. Throws `ServerError`/`Error` at start-up on a malformed password hash or missing UI files.
 */
export function registerAdminConsole(
  app: FastifyInstance,
  options: AdminConsoleOptions,
  doctor: () => unknown,
) {
  parsePasswordHash(options.passwordHash); // fail at start-up, not at the first login
  const staticFiles = loadStaticFiles();
  const clock = options.clock ?? (() => new Date());
  const x: AdminContext = {
    options,
    actor: options.actor ?? DEFAULT_ADMIN.actor,
    sessions:
      options.sessions ??
      localAdminSessions({
        sessionTtlMinutes: options.sessionTtlMinutes ?? DEFAULT_ADMIN.sessionTtlMinutes,
        loginBurst: options.loginBurst ?? DEFAULT_ADMIN.loginBurst,
        loginRefillSeconds: options.loginRefillSeconds ?? DEFAULT_ADMIN.loginRefillSeconds,
        now: () => clock().getTime(),
      }),
    doctor,
    now: clock,
  };
  const csp = [
    "default-src 'none'",
    `script-src 'self' '${staticFiles.importMapHash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');

  app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        contextOf(request).op = 'admin';
        reply
          .header('content-security-policy', csp)
          .header('x-frame-options', 'DENY')
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .header('cross-origin-opener-policy', 'same-origin')
          .header('cross-origin-resource-policy', 'same-origin');
      });
      scope.setNotFoundHandler((request, reply) => refuse(request, reply, 404, 'not found'));
      staticFiles.register(scope);
      scope.register(
        async (api) => {
          api.addHook('onRequest', async (request, reply) => {
            reply.header('cache-control', 'no-store');
            const unsafe = !SAFE_METHODS.has(request.method);
            if (unsafe && !sameOrigin(request)) {
              return sendError(reply, 403, 'bad-origin', 'cross-origin request refused');
            }
            if (request.routeOptions.url !== undefined && PUBLIC_API.has(request.routeOptions.url)) return;
            const session = await x.sessions.get(cookieValue(request, SESSION_COOKIE));
            if (!session) return sendError(reply, 401, 'unauthenticated', 'sign in first');
            if (unsafe && !sameToken(header(request.headers[CSRF_HEADER]), session.csrfToken)) {
              return sendError(reply, 403, 'csrf', `missing or wrong ${CSRF_HEADER} header`);
            }
            attachSession(request, session);
          });
          api.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'not-found', 'no such API'));
          api.setErrorHandler((err: { statusCode?: number; message?: string }, request, reply) => {
            const status = err.statusCode ?? 500;
            if (status >= 400 && status < 500) {
              return sendError(
                reply,
                status,
                'bad-request',
                status === 415 ? 'send JSON' : 'malformed request',
              );
            }
            contextOf(request).err = err;
            if (isStoreUnavailable(err)) {
              return sendError(reply, 503, 'unavailable', 'the database is out of reach, retry later');
            }
            if (err instanceof PrimaryUnreachableError) {
              return sendError(reply, 503, 'unavailable', 'the cluster primary is out of reach, retry later');
            }
            return sendError(reply, 500, 'internal', 'internal error');
          });
          registerAuthRoutes(api, x);
          registerDashboardRoutes(api, x);
          registerCertificateRoutes(api, x);
          registerRequestRoutes(api, x);
          registerAuditRoutes(api, x);
        },
        { prefix: '/api' },
      );
    },
    { prefix: ADMIN_PREFIX },
  );
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
