import type { Logger } from 'pino';
import type { Capability } from '@scepkit/scep';
import type { AdminConsoleOptions } from './admin/options.js';
import type { ScepBackend } from './backend.js';
import type { MetricsOptions, ScepMetrics } from './metrics.js';
import type { ScepPkiOptions } from './pki.js';
import type { RateLimitOptions } from './rate-limit.js';

/** One SCEP endpoint: a path (plus aliases), its backend (verifier + CA profile) and its CA/RA material. */
export interface ScepEndpointOptions {
  /**
   * e.g. `/scep` or `/scep/intune`. For it and each alias, `{path}/pkiclient.exe` is served too (Windows
   * appends it to the URL it is given).
   */
  path: string;
  /** Passed to the backend as `EnrollRequest.endpoint` and logged; default: the path's last segment. */
  name?: string;
  /**
   * Extra exact paths. Default for the FIRST endpoint only: `DEFAULT_SCEP_ALIASES` (the paths real clients
   * and NDES-style URLs use); `[]` for the others.
   */
  aliases?: readonly string[];
  backend: ScepBackend;
  pki: ScepPkiOptions;
  /** GetCACaps keywords; default `DEFAULT_CAPABILITIES` (+ `GetNextCACert` with a rollover CA). */
  capabilities?: readonly Capability[];
}

/** Size limits and timeouts. Times in milliseconds. */
export interface ServerLimits {
  /** Largest request body (HTTP 413 beyond). */
  bodyLimit: number;
  /** Longest request target (path + query), HTTP 414 beyond. GET PKIOperation with Intune challenges needs >16 kB. */
  maxUrlLength: number;
  /** Node's limit on request line + headers (HTTP 431 beyond); must exceed `maxUrlLength`. */
  maxHeaderSize: number;
  /** Whole request must arrive within this (slow bodies). */
  requestTimeout: number;
  /** Request line + headers must arrive within this (slow-loris). */
  headersTimeout: number;
  /** Idle keep-alive sockets are closed after this. */
  keepAliveTimeout: number;
  /** Any socket idle (no bytes either way) this long is destroyed. */
  connectionTimeout: number;
  /** How often Node checks `headersTimeout`/`requestTimeout` on open sockets. */
  connectionsCheckingInterval: number;
  /** TLS handshake must complete within this. */
  handshakeTimeout: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  bodyLimit: 256 * 1024,
  maxUrlLength: 64 * 1024,
  maxHeaderSize: 80 * 1024,
  requestTimeout: 30_000,
  headersTimeout: 10_000,
  keepAliveTimeout: 5_000,
  connectionTimeout: 60_000,
  connectionsCheckingInterval: 1_000,
  handshakeTimeout: 10_000,
};

/** Paths Windows (`{URL}/pkiclient.exe`), old clients and NDES-style URLs use, served by the first endpoint. */
export const DEFAULT_SCEP_ALIASES: readonly string[] = [
  '/scep',
  '/cgi-bin/pkiclient.exe',
  '/certsrv/mscep/mscep.dll',
];

export const DEFAULT_PATHS = {
  crl: '/crl',
  ocsp: '/ocsp',
  healthz: '/healthz',
  metrics: '/metrics',
} as const;

/** HTTPS: PEM key and certificate chain. TLS 1.2 minimum. */
export interface TlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  passphrase?: string;
  /** OpenSSL cipher list for TLS 1.2; default `DEFAULT_TLS_CIPHERS` (ECDHE + AEAD only). */
  ciphers?: string;
}

/** TLS 1.2 suites with forward secrecy and AEAD (TLS 1.3 suites are Node's defaults). */
export const DEFAULT_TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_AES_128_GCM_SHA256',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface ScepServerOptions {
  endpoints: readonly ScepEndpointOptions[];
  /** Serves `/crl`, `/ocsp` and `/healthz`; default the first endpoint's backend. */
  backend?: ScepBackend;
  limits?: Partial<ServerLimits>;
  /** Paths of the non-SCEP routes; set one to `false` to disable it. */
  paths?: Partial<Record<keyof typeof DEFAULT_PATHS, string | false>>;
  tls?: TlsOptions;
  /** One JSON line per request; default: no logging. Never receives challenges, keys or PKIOperation queries. */
  logger?: Logger;
  /** Existing metrics (shared with the admin console) or options to create them. */
  metrics?: ScepMetrics | MetricsOptions;
  /**
   * What `/metrics` answers instead of this process's registry: the workers of a cluster answer the metrics of
   * all workers, gathered by their primary (`workerClusterMetrics`).
   */
  metricsText?: () => Promise<string>;
  /** Per-client token bucket (HTTP 429); `false` disables it. Default `DEFAULT_RATE_LIMIT`. */
  rateLimit?: RateLimitOptions | false;
  /** Fastify's `trustProxy`, so the client address (rate limit, logs) is right behind a proxy. Default false. */
  trustProxy?: boolean | string | string[];
  clock?: () => Date;
  /** The admin console under `/admin`; absent: not served (404). */
  admin?: AdminConsoleOptions;
}
