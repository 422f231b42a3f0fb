import type { Dispatcher } from 'undici';
import type { ResolvedConfig } from './config.js';
import {
  IntuneHttpError,
  IntuneNetworkError,
  IntuneProtocolError,
  IntuneServiceNotFoundError,
} from './errors.js';
import { isRetryableStatus, parseRetryAfter, withRetry } from './retry.js';
import type { TokenProvider } from './token-provider.js';
import { httpRequest } from './transport.js';

/** Service names in the Graph `endpoints` list (matched case-insensitively). */
export const SCEP_VALIDATION_SERVICE = 'ScepRequestValidationFEService';
export const PKI_CONNECTOR_SERVICE = 'PkiConnectorFEService';

/** Lower-cased service name -> base URI. */
export type ServiceMap = ReadonlyMap<string, string>;

/**
 * Finds the Intune service URIs through Microsoft Graph
 * (`GET {graph}/v1.0/servicePrincipals/appId={intuneAppId}/endpoints`) and caches them without TTL.
 * One lookup is in flight at a time; `invalidate` drops the cache (after a network failure or non-2xx).
 */
export class ServiceDiscovery {
  private cached: Promise<ServiceMap> | undefined;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly dispatcher: Dispatcher,
    private readonly tokens: TokenProvider,
  ) {}

  get url(): string {
    const version = this.config.graphApiVersion.startsWith('v')
      ? this.config.graphApiVersion
      : `v${this.config.graphApiVersion}`;
    return `${this.config.graphResourceUrl}${version}/servicePrincipals/appId=${this.config.intuneAppId}/endpoints`;
  }

  /** The base URI of `serviceName`, discovering when the cache is empty. */
  async resolve(serviceName: string, activityId: string): Promise<{ uri: string; map: Promise<ServiceMap> }> {
    const map = (this.cached ??= this.discover(activityId));
    map.catch(() => this.invalidate(map));
    const uri = (await map).get(serviceName.toLowerCase());
    if (uri === undefined) {
      // Permissions may be granted later: do not keep a list that lacks the service.
      this.invalidate(map);
      throw new IntuneServiceNotFoundError(serviceName);
    }
    return { uri, map };
  }

  /** Drops the cached list, but only if it is still `map` (a newer lookup is kept). */
  invalidate(map?: Promise<ServiceMap>, activityId?: string): void {
    if (this.cached === undefined || (map !== undefined && this.cached !== map)) return;
    this.cached = undefined;
    if (activityId) this.config.logger.warn({ activityId, op: 'discovery' }, 'intune service list dropped');
  }

  private async discover(activityId: string): Promise<ServiceMap> {
    const { logger } = this.config;
    const token = await this.tokens.getToken(this.config.graphScope, activityId);
    const url = this.url;
    const response = await withRetry(
      async () => {
        const r = await httpRequest(this.dispatcher, this.config.timeoutMs, activityId, url, {
          method: 'GET',
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            'client-request-id': activityId,
            'User-Agent': this.config.providerNameAndVersion,
          },
        });
        if (r.status < 200 || r.status > 299) {
          if (r.status === 401 || r.status === 403) this.tokens.invalidate(this.config.graphScope);
          throw new IntuneHttpError({
            status: r.status,
            body: r.text,
            url,
            activityId,
            retryAfterMs: parseRetryAfter(r.headers['retry-after']),
            ...(r.status === 401 || r.status === 403
              ? { hint: "Check the Graph permission 'Application.Read.All' and admin consent" }
              : {}),
          });
        }
        return r;
      },
      (err) => ({
        retry:
          err instanceof IntuneNetworkError ||
          (err instanceof IntuneHttpError && isRetryableStatus(err.status)),
        retryAfterMs: err instanceof IntuneHttpError ? err.retryAfterMs : undefined,
      }),
      this.config.retry,
      this.config.sleep,
    );
    const map = parseEndpoints(response.text, url, activityId);
    logger.info({ activityId, op: 'discovery', services: [...map.keys()] }, 'intune service discovery');
    return map;
  }
}

/** Reads `value[].providerName` (or `serviceName`, AAD Graph shape) and `value[].uri`; the first entry wins. */
export function parseEndpoints(text: string, url: string, activityId: string): ServiceMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IntuneProtocolError({ message: 'discovery answer is not JSON', url, activityId, body: text });
  }
  const value = (parsed as { value?: unknown } | null)?.value;
  if (!Array.isArray(value)) {
    throw new IntuneProtocolError({
      message: 'discovery answer has no "value" array',
      url,
      activityId,
      body: text,
    });
  }
  const map = new Map<string, string>();
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    const name = record['providerName'] ?? record['serviceName'];
    const uri = record['uri'];
    if (typeof name === 'string' && typeof uri === 'string' && !map.has(name.toLowerCase())) {
      map.set(name.toLowerCase(), uri);
    }
  }
  return map;
}
