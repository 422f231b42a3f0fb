import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isStoreUnavailable } from '@scepkit/ca';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import pino from 'pino';
import type { Logger } from 'pino';
import { registerAdminConsole } from './admin/console.js';
import type { ScepBackend } from './backend.js';
import { registerCrlRoute } from './crl-route.js';
import { ServerError } from './errors.js';
import { registerHealthRoute } from './health-route.js';
import { createMetrics, registerCertificateGauge } from './metrics.js';
import type { ScepMetrics } from './metrics.js';
import { registerOcspRoutes } from './ocsp-route.js';
import { DEFAULT_LIMITS, DEFAULT_PATHS, DEFAULT_SCEP_ALIASES, DEFAULT_TLS_CIPHERS } from './options.js';
import type { ScepServerOptions, ServerLimits } from './options.js';
import { preparePki } from './pki.js';
import { DEFAULT_RATE_LIMIT, TokenBuckets } from './rate-limit.js';
import { contextOf, refuse } from './request-context.js';
import { capsFor, registerScepRoutes } from './scep-route.js';
import type { ScepRouteContext } from './scep-route.js';

/** A configured server, not yet listening: add routes (e.g. `/admin`) to `app` before `listen`. */
export interface ScepServer {
  readonly app: FastifyInstance;
  readonly metrics: ScepMetrics;
  /** Every path served for SCEP, by endpoint name. */
  readonly scepPaths: ReadonlyMap<string, readonly string[]>;
  /** Publishes the last Intune `doctor` result on `/healthz` (keep it free of secrets). */
  setDoctorResult(result: unknown): void;
  /** Starts listening; returns the base URL (e.g. `http://127.0.0.1:8080`). */
  listen(o?: { host?: string; port?: number }): Promise<string>;
  close(): Promise<void>;
}

const RATE_LIMIT_EXEMPT = new Set<string>();

function pathsOf(endpoints: ScepServerOptions['endpoints']): Array<{ name: string; paths: string[] }> {
  const own = new Set(endpoints.map((e) => e.path));
  const seen = new Set<string>();
  return endpoints.map((e, i) => {
    const name = e.name ?? (e.path.split('/').filter(Boolean).pop() || 'scep');
    const aliases = (e.aliases ?? (i === 0 ? DEFAULT_SCEP_ALIASES : [])).filter((a) => !own.has(a));
    const paths: string[] = [];
    for (const p of [e.path, ...aliases]) {
      if (!p.startsWith('/')) throw new ServerError('badOptions', `SCEP path must start with '/': ${p}`);
      const base = p.length > 1 ? p.replace(/\/+$/, '') : p;
      for (const q of base.endsWith('pkiclient.exe')
        ? [base]
        : [base, `${base === '/' ? '' : base}/pkiclient.exe`]) {
        if (seen.has(q)) {
          if (q === base && p === e.path)
            throw new ServerError('badOptions', `SCEP path ${q} is configured twice`);
          continue;
        }
        seen.add(q);
        paths.push(q);
      }
    }
    return { name, paths };
  });
}

function createHttpServer(limits: ServerLimits, tls: ScepServerOptions['tls']) {
  return (handler: http.RequestListener): http.Server => {
    const common = {
      maxHeaderSize: limits.maxHeaderSize,
      requestTimeout: limits.requestTimeout,
      headersTimeout: limits.headersTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      connectionsCheckingInterval: limits.connectionsCheckingInterval,
    };
    const server = tls
      ? (https.createServer(
          {
            ...common,
            key: tls.key,
            cert: tls.cert,
            ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
            minVersion: 'TLSv1.2',
            ciphers: tls.ciphers ?? DEFAULT_TLS_CIPHERS,
            honorCipherOrder: true,
            handshakeTimeout: limits.handshakeTimeout,
          },
          handler,
        ) as unknown as http.Server)
      : http.createServer(common, handler);
    server.headersTimeout = limits.headersTimeout;
    server.requestTimeout = limits.requestTimeout;
    server.keepAliveTimeout = limits.keepAliveTimeout;
    server.setTimeout(limits.connectionTimeout);
    return server;
  };
}

/**
 * Builds the SCEP service (RFC 8894) with `/crl`, `/ocsp`, `/healthz`, `/metrics` and, when `admin` is given,
 * the admin console under `/admin`.
 * Parses the CA/RA material once; throws `ServerError` on bad options.
 *
 * @example
 * const server = createScepServer({ endpoints: [{ path: '/scep', backend, pki }], logger: pino() });
 * server.app.get('/admin', adminHandler);
 * const url = await server.listen({ host: '127.0.0.1', port: 0 });
 */
export function createScepServer(options: ScepServerOptions): ScepServer {
  const first = options.endpoints[0];
  if (!first) throw new ServerError('badOptions', 'at least one SCEP endpoint is required');
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  if (limits.maxHeaderSize <= limits.maxUrlLength) {
    throw new ServerError('badOptions', 'limits.maxHeaderSize must exceed limits.maxUrlLength');
  }
  if (limits.requestTimeout > 0 && limits.headersTimeout > limits.requestTimeout) {
    throw new ServerError('badOptions', 'limits.headersTimeout must not exceed limits.requestTimeout');
  }
  const backend: ScepBackend = options.backend ?? first.backend;
  const clock = options.clock ?? (() => new Date());
  const logger: Logger = options.logger ?? pino({ enabled: false });
  const paths = { ...DEFAULT_PATHS, ...options.paths };
  const rate = options.rateLimit === false ? undefined : { ...DEFAULT_RATE_LIMIT, ...options.rateLimit };
  if (rate && !(rate.burst >= 1 && rate.perSecond > 0 && rate.maxClients >= 1)) {
    throw new ServerError('badOptions', 'rateLimit needs burst >= 1, perSecond > 0 and maxClients >= 1');
  }
  const buckets = rate ? new TokenBuckets(rate) : undefined;
  let doctor: unknown = null;

  const endpointPaths = pathsOf(options.endpoints);
  const pkis = options.endpoints.map((e) => preparePki(e.pki)); // parse and check all material before any side effect
  const metrics: ScepMetrics =
    options.metrics && 'registry' in options.metrics ? options.metrics : createMetrics(options.metrics);
  if (backend.certificateCounts) registerCertificateGauge(metrics, () => backend.certificateCounts!());
  const routeContexts: Array<{ paths: string[]; context: ScepRouteContext }> = options.endpoints.map(
    (e, i) => {
      const { name, paths: ps } = endpointPaths[i]!;
      const pki = pkis[i]!;
      return {
        paths: ps,
        context: { endpoint: name, pki, backend: e.backend, metrics, caps: capsFor(pki, e.capabilities) },
      };
    },
  );

  const app = Fastify({
    logger: false, // we log one line per request ourselves (onResponse)
    bodyLimit: limits.bodyLimit,
    trustProxy: options.trustProxy ?? false,
    return503OnClosing: true,
    // `https://host/scep/` configured with a trailing slash: Windows then asks for `/scep//pkiclient.exe`.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    forceCloseConnections: 'idle',
    serverFactory: createHttpServer(limits, options.tls),
  });

  const exempt = new Set<string>(RATE_LIMIT_EXEMPT);
  if (paths.healthz) exempt.add(paths.healthz);
  if (paths.metrics) exempt.add(paths.metrics);

  app.addHook('onRequest', async (request, reply) => {
    contextOf(request);
    const url = request.raw.url ?? '';
    if (url.length > limits.maxUrlLength) return refuse(request, reply, 414, 'URI too long');
    if (buckets && !exempt.has(url.split('?')[0]!)) {
      const wait = buckets.take(request.ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        return refuse(request, reply, 429, 'too many requests');
      }
    }
    return undefined;
  });

  app.addHook('onResponse', async (request, reply) => logAndCount(request, reply, logger, metrics));

  app.setNotFoundHandler((request, reply) => refuse(request, reply, 404, 'not found'));
  app.setErrorHandler((err: { statusCode?: number; code?: string }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return refuse(request, reply, status, clientErrorText(status));
    contextOf(request).err = err;
    if (isStoreUnavailable(err)) {
      // The database is out of reach: clients (certmonger, Windows, iOS) retry a 503 later.
      reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
      return reply.code(503).type('text/plain; charset=utf-8').send('service unavailable, retry later\n');
    }
    return reply.code(500).type('text/plain; charset=utf-8').send('internal error\n');
  });

  // SCEP and OCSP take any body, with any or no Content-Type, as raw bytes (Windows and jscep send
  // application/x-pki-message, micromdm octet-stream, some clients form-urlencoded or nothing).
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    for (const { paths: ps, context } of routeContexts) registerScepRoutes(scope, ps, context);
    if (paths.ocsp) registerOcspRoutes(scope, paths.ocsp, backend);
  });
  if (paths.crl) registerCrlRoute(app, paths.crl, backend, clock);
  if (paths.healthz) registerHealthRoute(app, paths.healthz, backend, () => doctor);
  if (paths.metrics) {
    const metricsPath = paths.metrics;
    app.get(metricsPath, async (request, reply) => {
      contextOf(request).op = 'metrics';
      let text: string;
      if (options.metricsText) {
        try {
          text = await options.metricsText();
        } catch (err) {
          contextOf(request).err = err;
          return refuse(request, reply, 503, 'metrics unavailable, retry later');
        }
      } else {
        text = await metrics.registry.metrics();
      }
      return reply.type(metrics.registry.contentType).send(text);
    });
  }
  if (options.admin) registerAdminConsole(app, options.admin, () => doctor);

  return {
    app,
    metrics,
    scepPaths: new Map(endpointPaths.map((e) => [e.name, e.paths])),
    setDoctorResult(result) {
      doctor = result;
    },
    async listen(o = {}) {
      await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
      const addr = app.server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return `${options.tls ? 'https' : 'http'}://${host}:${addr.port}`;
    },
    close: () => app.close(),
  };
}

function clientErrorText(status: number): string {
  switch (status) {
    case 413:
      return 'request body too large';
    case 415:
      return 'unsupported media type';
    case 408:
      return 'request timeout';
    default:
      return 'bad request';
  }
}

/** Retry-After (seconds) of the 503 answered while the database is out of reach. */
export const UNAVAILABLE_RETRY_AFTER_S = 10;

function logAndCount(request: FastifyRequest, reply: FastifyReply, logger: Logger, metrics: ScepMetrics) {
  const c = contextOf(request);
  const status = reply.statusCode;
  const outcome =
    c.pkiStatus ??
    (status < 400
      ? 'ok'
      : status === 429
        ? 'rate_limited'
        : status < 500
          ? 'rejected'
          : status === 503
            ? 'unavailable'
            : 'error');
  metrics.requests.inc({ operation: c.op, outcome });
  // Never the query string: a GET PKIOperation carries the whole message, challenge included.
  const line = {
    op: c.op,
    path: (request.raw.url ?? '').split('?')[0],
    method: request.method,
    status,
    durationMs: Math.round(reply.elapsedTime * 10) / 10,
    remoteAddress: request.ip,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.messageType ? { messageType: c.messageType } : {}),
    ...(c.transactionId ? { transactionId: c.transactionId } : {}),
    ...(c.pkiStatus ? { pkiStatus: c.pkiStatus } : {}),
    ...(c.failInfo ? { failInfo: c.failInfo } : {}),
    ...(c.reason ? { reason: c.reason } : {}),
  };
  if (c.err !== undefined) logger.error({ ...line, err: c.err }, 'request failed');
  else logger.info(line, 'request');
}
