import { X509Certificate, createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { IntuneConfigurationError } from './errors.js';
import type { IntuneLogger } from './logger.js';
import { NOOP_LOGGER } from './logger.js';
import type { RetryOptions } from './retry.js';
import { DEFAULT_RETRY, defaultSleep } from './retry.js';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com/';
export const DEFAULT_GRAPH_RESOURCE_URL = 'https://graph.microsoft.com/';
export const DEFAULT_GRAPH_API_VERSION = '1.0';
export const DEFAULT_INTUNE_RESOURCE_URL = 'https://api.manage.microsoft.com/';
export const DEFAULT_INTUNE_APP_ID = '0000000a-0000-0000-c000-000000000000';
export const DEFAULT_SCEP_SERVICE_VERSION = '2018-02-20';
export const DEFAULT_PKI_SERVICE_VERSION = '5019-05-05';
export const DEFAULT_TIMEOUT_MS = 30_000;

/** An HTTP proxy (`http://host:port`) with optional Basic credentials. */
export interface ProxyOptions {
  url: string;
  username?: string;
  password?: string;
}

/** Certificate credential: the PEM private key and the PEM certificate registered on the Entra app. */
export interface ClientCertificateCredential {
  privateKeyPem: string;
  certificatePem: string;
  /** For an encrypted PEM private key. */
  passphrase?: string;
}

/** Options of `IntuneClient`. Exactly one of `clientSecret` / `clientCertificate` is required. */
export interface IntuneClientOptions {
  /** Tenant id or domain (`contoso.onmicrosoft.com`). Microsoft: `TENANT`. */
  tenant: string;
  /** Entra application (client) id. Microsoft: `AAD_APP_ID`. */
  clientId: string;
  /** Client secret. Microsoft: `AAD_APP_KEY`. */
  clientSecret?: string;
  clientCertificate?: ClientCertificateCredential;
  /** Sent as `callerInfo` and the `UserAgent` header. Microsoft: `PROVIDER_NAME_AND_VERSION`. */
  providerNameAndVersion: string;
  /** Microsoft: `AUTH_AUTHORITY`; the tenant is appended. */
  authorityHost?: string;
  /** Microsoft: `MS_GRAPH_RESOURCE_URL` (Java) / `MSAL_GRAPH_RESOURCE_URL` (C#). */
  graphResourceUrl?: string;
  /** Microsoft: `MS_GRAPH_API_VERSION` (`1.0` => `/v1.0/`). */
  graphApiVersion?: string;
  /** Microsoft: `INTUNE_RESOURCE_URL`; the token scope is this + `/.default`. */
  intuneResourceUrl?: string;
  /** Microsoft: `INTUNE_APP_ID`. */
  intuneAppId?: string;
  /** Microsoft: `ScepRequestValidationFEServiceVersion`. */
  scepServiceVersion?: string;
  /** Microsoft: `PkiConnectorFEServiceVersion`. */
  pkiServiceVersion?: string;
  /** MSAL `knownAuthorities`; defaults to the authority host (skips MSAL instance discovery). */
  knownAuthorities?: string[];
  /** HTTP proxy for every call (Entra, Graph, Intune). Microsoft: `PROXY_HOST`/`PROXY_PORT`/`PROXY_USER`/`PROXY_PASS`. */
  proxy?: ProxyOptions;
  /** Extra trusted CA certificates (PEM), added to Node's default roots. */
  ca?: string | string[];
  /** A custom undici dispatcher for every call; overrides `proxy` and `ca`. Not closed by `close()`. */
  dispatcher?: Dispatcher;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Injected for tests (backoff waits). */
  sleep?: (ms: number) => Promise<void>;
  /** Activity id generator (default `crypto.randomUUID`). */
  newActivityId?: () => string;
  /** Clock (default `Date.now`), used to refuse an expired client certificate before calling Entra ID. */
  now?: () => number;
  logger?: IntuneLogger;
}

/** Validated options with defaults applied. */
export interface ResolvedConfig {
  tenant: string;
  clientId: string;
  credential:
    | { kind: 'secret'; secret: string }
    | { kind: 'certificate'; privateKey: KeyObject; certificate: X509Certificate; privateKeyPem: string };
  providerNameAndVersion: string;
  authority: string;
  knownAuthorities: string[];
  graphResourceUrl: string;
  graphApiVersion: string;
  graphScope: string;
  intuneScope: string;
  intuneAppId: string;
  scepServiceVersion: string;
  pkiServiceVersion: string;
  proxy: ProxyOptions | undefined;
  ca: string[] | undefined;
  dispatcher: Dispatcher | undefined;
  timeoutMs: number;
  retry: Required<RetryOptions>;
  sleep: (ms: number) => Promise<void>;
  newActivityId: () => string;
  now: () => number;
  logger: IntuneLogger;
}

function requireString(options: object, key: string): string {
  const value = (options as Record<string, unknown>)[key];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new IntuneConfigurationError(
      key,
      `required, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
    );
  }
  return value.trim();
}

function optionalUrl(key: string, value: string | undefined, fallback: string): string {
  const url = value?.trim() || fallback;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new IntuneConfigurationError(key, `not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:')
    throw new IntuneConfigurationError(key, `must be an https URL, got ${url}`);
  return url;
}

const withSlash = (url: string): string => (url.endsWith('/') ? url : `${url}/`);

/** Validates options once, with messages naming the offending key. */
export function resolveConfig(options: IntuneClientOptions): ResolvedConfig {
  if (typeof options !== 'object' || options === null)
    throw new IntuneConfigurationError('options', 'required');
  const tenant = requireString(options, 'tenant');
  const clientId = requireString(options, 'clientId');
  const providerNameAndVersion = requireString(options, 'providerNameAndVersion');
  const credential = resolveCredential(options);

  const authorityHost = withSlash(
    optionalUrl('authorityHost', options.authorityHost, DEFAULT_AUTHORITY_HOST),
  );
  const graphResourceUrl = withSlash(
    optionalUrl('graphResourceUrl', options.graphResourceUrl, DEFAULT_GRAPH_RESOURCE_URL),
  );
  // Kept verbatim: Microsoft's scope is INTUNE_RESOURCE_URL + "/.default", i.e. with a double slash.
  const intuneResourceUrl = optionalUrl(
    'intuneResourceUrl',
    options.intuneResourceUrl,
    DEFAULT_INTUNE_RESOURCE_URL,
  );
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new IntuneConfigurationError('timeoutMs', `must be a positive number, got ${timeoutMs}`);
  }
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1 || retry.attempts > 10) {
    throw new IntuneConfigurationError('retry.attempts', `must be an integer 1..10, got ${retry.attempts}`);
  }
  if (options.proxy) {
    try {
      const p = new URL(options.proxy.url);
      if (p.protocol !== 'http:' && p.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new IntuneConfigurationError(
        'proxy.url',
        `not an http(s) URL: ${JSON.stringify(options.proxy.url)}`,
      );
    }
    if (options.proxy.username && options.proxy.password === undefined) {
      throw new IntuneConfigurationError('proxy.password', 'required when proxy.username is set');
    }
  }
  const authority = `${authorityHost}${tenant}`;
  const resolved = {
    tenant,
    clientId,
    providerNameAndVersion,
    authority,
    knownAuthorities: options.knownAuthorities ?? [new URL(authorityHost).host],
    graphResourceUrl,
    graphApiVersion: options.graphApiVersion?.trim() || DEFAULT_GRAPH_API_VERSION,
    graphScope: `${graphResourceUrl}.default`,
    intuneScope: `${intuneResourceUrl}/.default`,
    intuneAppId: options.intuneAppId?.trim() || DEFAULT_INTUNE_APP_ID,
    scepServiceVersion: options.scepServiceVersion?.trim() || DEFAULT_SCEP_SERVICE_VERSION,
    pkiServiceVersion: options.pkiServiceVersion?.trim() || DEFAULT_PKI_SERVICE_VERSION,
    ca: options.ca === undefined ? undefined : Array.isArray(options.ca) ? options.ca : [options.ca],
    dispatcher: options.dispatcher,
    timeoutMs,
    retry,
    sleep: options.sleep ?? defaultSleep,
    newActivityId: options.newActivityId ?? (() => randomUUID()),
    now: options.now ?? Date.now,
    logger: options.logger ?? NOOP_LOGGER,
  };
  // Secrets are not enumerable, so logging or serializing the config (or a client) does not print them.
  return Object.defineProperties(resolved, {
    credential: { value: credential, enumerable: false },
    proxy: { value: options.proxy, enumerable: false },
  }) as ResolvedConfig;
}

function resolveCredential(options: IntuneClientOptions): ResolvedConfig['credential'] {
  const hasSecret = typeof options.clientSecret === 'string' && options.clientSecret !== '';
  if (hasSecret && options.clientCertificate) {
    throw new IntuneConfigurationError(
      'clientSecret',
      'set either clientSecret or clientCertificate, not both',
    );
  }
  if (hasSecret) return { kind: 'secret', secret: options.clientSecret as string };
  const cc = options.clientCertificate;
  if (!cc) throw new IntuneConfigurationError('clientSecret', 'required (or clientCertificate)');
  let certificate: X509Certificate;
  let privateKey: KeyObject;
  try {
    certificate = new X509Certificate(requireString(cc, 'certificatePem'));
  } catch (err) {
    if (err instanceof IntuneConfigurationError) {
      throw new IntuneConfigurationError('clientCertificate.certificatePem', 'required');
    }
    throw new IntuneConfigurationError('clientCertificate.certificatePem', 'not a PEM certificate');
  }
  try {
    const key = requireString(cc, 'privateKeyPem');
    privateKey = createPrivateKey(cc.passphrase !== undefined ? { key, passphrase: cc.passphrase } : key);
  } catch {
    throw new IntuneConfigurationError(
      'clientCertificate.privateKeyPem',
      'missing, not a PEM private key, or a wrong passphrase',
    );
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new IntuneConfigurationError(
      'clientCertificate.privateKeyPem',
      'must be an RSA key (Entra signs PS256)',
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new IntuneConfigurationError('clientCertificate', 'the private key does not match the certificate');
  }
  return {
    kind: 'certificate',
    privateKey,
    certificate,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}
