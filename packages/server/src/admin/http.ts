import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

/** The cookie holding the session id (HttpOnly, Secure, SameSite=Strict, Path=/admin). */
export const SESSION_COOKIE = 'scepkit_admin';
export const CSRF_HEADER = 'x-csrf-token';

/** A JSON error: `{ error, message }`, never internal details. */
export function sendError(reply: FastifyReply, status: number, error: string, message: string) {
  return reply.code(status).header('cache-control', 'no-store').send({ error, message });
}

/** Validates `value` with `schema`; on failure answers 400 with the first issues and returns undefined. */
export function parseInput<T extends z.ZodType>(
  reply: FastifyReply,
  schema: T,
  value: unknown,
): z.infer<T> | undefined {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const message = r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
  void sendError(reply, 400, 'bad-request', message);
  return undefined;
}

export function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/admin; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

export const CLEAR_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;

/**
 * CSRF defence in depth: when the browser names the origin of a state-changing request, it must be ours
 * (scheme and host as this request arrived, behind a proxy as `trustProxy` reports them).
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return request.headers['sec-fetch-site'] !== 'cross-site';
  try {
    // Compared as URLs, so that a default port (`:443`, `:80`) given on one side only still matches.
    return new URL(origin).origin === new URL(`${request.protocol}://${request.host}`).origin;
  } catch {
    return false;
  }
}

/** Browsers keep `Secure` cookies over plain HTTP only for loopback hosts (potentially trustworthy origins). */
export function secureContext(request: FastifyRequest): boolean {
  if (request.protocol === 'https') return true;
  const host = request.hostname.replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}
