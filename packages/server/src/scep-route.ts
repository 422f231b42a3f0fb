import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONTENT_TYPES, decodeBase64Message, formatCaps, parseScepQuery, ScepError } from '@scepkit/scep';
import type { Capability } from '@scepkit/scep';
import type { ScepBackend } from './backend.js';
import type { ScepMetrics } from './metrics.js';
import { pkiOperation } from './pki-operation.js';
import type { ScepPki } from './pki.js';
import { contextOf, refuse } from './request-context.js';
import type { OperationLabel } from './request-context.js';

/** GetCACaps (RFC 8894 §3.5.2): what Windows, Apple (iOS 10+ needs the SHA-*) and jscep look for. */
export const DEFAULT_CAPABILITIES: readonly Capability[] = [
  'POSTPKIOperation',
  'Renewal',
  'SHA-512',
  'SHA-256',
  'SHA-1',
  'AES',
  'DES3',
  'SCEPStandard',
];

export interface ScepRouteContext {
  endpoint: string;
  pki: ScepPki;
  backend: ScepBackend;
  metrics: ScepMetrics;
  caps: string;
}

export function capsFor(pki: ScepPki, capabilities: readonly Capability[] = DEFAULT_CAPABILITIES): string {
  return formatCaps(pki.hasNextCa ? [...capabilities, 'GetNextCACert'] : capabilities);
}

const KNOWN_OPS = new Set<string>(['GetCACaps', 'GetCACert', 'GetNextCACert', 'PKIOperation']);

/** Registers GET and POST on every path of one SCEP endpoint; `scope` must parse every body as a Buffer. */
export function registerScepRoutes(
  scope: FastifyInstance,
  paths: readonly string[],
  c: ScepRouteContext,
): void {
  const handler = (request: FastifyRequest, reply: FastifyReply) => handleScep(request, reply, c);
  for (const url of paths) scope.route({ method: ['GET', 'POST'], url, handler });
}

async function handleScep(request: FastifyRequest, reply: FastifyReply, c: ScepRouteContext) {
  const log = contextOf(request);
  log.endpoint = c.endpoint;
  const rawUrl = request.raw.url ?? '';
  const q = rawUrl.indexOf('?');
  let query: ReturnType<typeof parseScepQuery>;
  try {
    // The RAW query: macOS sends base64 with unescaped '+', which a form decoder would turn into spaces.
    query = parseScepQuery(q < 0 ? '' : rawUrl.slice(q + 1));
  } catch (err) {
    log.op = 'unknown';
    if (err instanceof ScepError) return refuse(request, reply, 400, 'malformed query string');
    throw err;
  }
  const op = query.operation;
  log.op = op !== undefined && KNOWN_OPS.has(op) ? (op as OperationLabel) : 'unknown';
  switch (op) {
    case 'GetCACaps':
      return reply.type(CONTENT_TYPES.caps).send(c.caps);
    case 'GetCACert':
      // The `message` (CA identifier: `ca`, `default`, `SCEP Authority`...) is accepted and ignored.
      return reply.type(c.pki.caCert.contentType).send(c.pki.caCert.body);
    case 'GetNextCACert': {
      const next = await c.pki.nextCaCert();
      if (!next) return refuse(request, reply, 404, 'no rollover CA configured');
      return reply.type(next.contentType).send(next.body);
    }
    case 'PKIOperation': {
      let raw: Uint8Array;
      if (request.method === 'POST') {
        const body = request.body;
        if (!Buffer.isBuffer(body) || body.length === 0) return refuse(request, reply, 400, 'empty body');
        raw = body;
      } else {
        if (query.message === undefined) return refuse(request, reply, 400, 'missing message');
        try {
          raw = decodeBase64Message(query.message);
        } catch (err) {
          if (err instanceof ScepError) return refuse(request, reply, 400, 'message is not base64');
          throw err;
        }
      }
      const answer = await pkiOperation(raw, request.ip, c, log);
      if (answer.kind === 'rejected') return refuse(request, reply, 400, answer.reason);
      return reply.type(CONTENT_TYPES.pkiMessage).send(answer.body);
    }
    default:
      return refuse(request, reply, 400, op === undefined ? 'missing operation' : 'unknown operation');
  }
}
