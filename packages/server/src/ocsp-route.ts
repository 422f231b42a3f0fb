import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ScepBackend } from './backend.js';
import { contextOf, refuse } from './request-context.js';

export const OCSP_CONTENT_TYPES = {
  request: 'application/ocsp-request',
  response: 'application/ocsp-response',
} as const;

/** Largest GET-encoded OCSP request accepted (RFC 6960 App. A.1 expects GET below 255 bytes; we are lenient). */
export const MAX_OCSP_GET_CHARS = 4096;

async function answer(reply: FastifyReply, backend: ScepBackend, der: Uint8Array) {
  // Undecodable requests are the responder's business: it answers malformedRequest (RFC 6960 §2.3).
  const response = await backend.ocsp(der);
  return reply.type(OCSP_CONTENT_TYPES.response).send(Buffer.from(response));
}

/**
 * RFC 6960 App. A.1: `POST {path}` with a DER body, and `GET {path}/{url-encoded base64 of the DER}`.
 * `scope` must parse bodies as Buffers.
 */
export function registerOcspRoutes(scope: FastifyInstance, path: string, backend: ScepBackend) {
  scope.post(path, async (request, reply) => {
    contextOf(request).op = 'ocsp';
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) return refuse(request, reply, 400, 'empty body');
    return answer(reply, backend, body);
  });
  scope.get(`${path}/*`, async (request, reply) => {
    contextOf(request).op = 'ocsp';
    // From the raw URL: the base64 may contain '/' and '+' (escaped or not).
    const raw = (request.raw.url ?? '').split('?')[0]!.slice(path.length + 1);
    if (raw.length === 0 || raw.length > MAX_OCSP_GET_CHARS)
      return refuse(request, reply, 400, 'bad request');
    let b64: string;
    try {
      b64 = decodeURIComponent(raw);
    } catch {
      return refuse(request, reply, 400, 'bad percent-encoding');
    }
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) return refuse(request, reply, 400, 'not base64');
    return answer(reply, backend, Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  });
}
