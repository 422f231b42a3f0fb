import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ScepBackend } from './backend.js';
import { contextOf } from './request-context.js';

export const CRL_CONTENT_TYPE = 'application/pkix-crl';

const etags = new WeakMap<Uint8Array, string>();

/** A strong ETag of the CRL bytes, computed once per CRL object. */
function etagOf(der: Uint8Array): string {
  let e = etags.get(der);
  if (!e) {
    e = `"${createHash('sha256').update(der).digest('base64url')}"`;
    etags.set(der, e);
  }
  return e;
}

/** RFC 9110 §13.1.2: does If-None-Match name this entity? (weak comparison) */
function matches(ifNoneMatch: string, etag: string): boolean {
  return ifNoneMatch
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}

/** `GET /crl`: DER CRL, cacheable until its nextUpdate (RFC 5280 §5; HTTP caching per RFC 9111). */
export function registerCrlRoute(app: FastifyInstance, path: string, backend: ScepBackend, now: () => Date) {
  app.get(path, async (request, reply) => {
    contextOf(request).op = 'crl';
    const crl = await backend.getCrl();
    const etag = etagOf(crl.der);
    const maxAge = crl.nextUpdate
      ? Math.max(0, Math.floor((crl.nextUpdate.getTime() - now().getTime()) / 1000))
      : 0;
    reply
      .header('cache-control', `public, max-age=${maxAge}`)
      .header('last-modified', crl.thisUpdate.toUTCString())
      .header('etag', etag);
    if (crl.nextUpdate) reply.header('expires', crl.nextUpdate.toUTCString());
    const inm = request.headers['if-none-match'];
    if (typeof inm === 'string' && matches(inm, etag)) return reply.code(304).send();
    return reply.type(CRL_CONTENT_TYPE).send(Buffer.from(crl.der));
  });
}
