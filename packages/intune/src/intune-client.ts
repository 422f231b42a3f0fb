import type { Dispatcher } from 'undici';
import { resolveConfig, type IntuneClientOptions, type ResolvedConfig } from './config.js';
import { ServiceDiscovery, type ServiceMap } from './discovery.js';
import { IntuneHttpError, IntuneNetworkError, IntuneProtocolError } from './errors.js';
import { isRetryableStatus, parseRetryAfter, withRetry } from './retry.js';
import { TokenProvider } from './token-provider.js';
import { createDispatcher, httpRequest } from './transport.js';

/** One POST to an Intune service. */
export interface ServiceCall {
  /** Discovery name, e.g. `ScepRequestValidationFEService`. */
  service: string;
  /** Appended to the service URI after a `/`, e.g. `ScepActions/validateRequest`. */
  path: string;
  apiVersion: string;
  body: unknown;
  /** For logs, e.g. `validateRequest`. */
  op: string;
  /** For logs. */
  transactionId?: string;
}

/** A parsed 2xx answer and the activity id (`client-request-id`) it was sent with. */
export interface ServiceAnswer {
  activityId: string;
  url: string;
  json: unknown;
  text: string;
}

/**
 * The shared transport of the Intune SCEP API: tokens (MSAL), Graph service discovery and service POSTs.
 * Create one per process and share it between `IntuneScepValidator` and `IntuneRevocationClient`;
 * it is safe under concurrent calls.
 *
 * @example
 * const client = new IntuneClient({ tenant, clientId, clientSecret, providerNameAndVersion: 'scepkit/0.1.0' });
 * const validator = new IntuneScepValidator(client);
 */
export class IntuneClient {
  readonly config: ResolvedConfig;
  // ES private fields: not shown by util.inspect, so a logged client never reveals MSAL's copy of the secret.
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #tokens: TokenProvider;
  readonly #discovery: ServiceDiscovery;

  constructor(options: IntuneClientOptions) {
    this.config = resolveConfig(options);
    const { dispatcher, owned } = createDispatcher(this.config);
    this.#dispatcher = dispatcher;
    this.#ownsDispatcher = owned;
    this.#tokens = new TokenProvider(this.config, dispatcher);
    this.#discovery = new ServiceDiscovery(this.config, dispatcher, this.#tokens);
  }

  /** A bearer token for the Intune API (`{INTUNE_RESOURCE_URL}/.default`); useful for health checks. */
  getIntuneToken(activityId: string = this.config.newActivityId()): Promise<string> {
    return this.#tokens.getToken(this.config.intuneScope, activityId);
  }

  /** The base URI of a service from (cached) Graph discovery; useful for health checks. */
  async resolveService(
    serviceName: string,
    activityId: string = this.config.newActivityId(),
  ): Promise<string> {
    return (await this.#discovery.resolve(serviceName, activityId)).uri;
  }

  /**
   * POSTs `call.body` as JSON. Network failures and 408/429/5xx are retried (bounded), each failure dropping
   * the discovery cache so the next attempt re-discovers. Non-2xx => `IntuneHttpError`; non-JSON 2xx =>
   * `IntuneProtocolError`.
   */
  async post(call: ServiceCall): Promise<ServiceAnswer> {
    const { config } = this;
    const activityId = config.newActivityId();
    const logContext = {
      activityId,
      op: call.op,
      ...(call.transactionId ? { transactionId: call.transactionId } : {}),
    };
    let posting = false;
    try {
      return await withRetry(
        async (attempt) => {
          posting = false;
          const { uri, map } = await this.#discovery.resolve(call.service, activityId);
          const token = await this.#tokens.getToken(config.intuneScope, activityId);
          posting = true;
          return this.postOnce(call, activityId, `${uri}/${call.path}`, token, map, attempt);
        },
        (err) => ({
          retry:
            posting &&
            (err instanceof IntuneNetworkError ||
              (err instanceof IntuneHttpError && isRetryableStatus(err.status))),
          retryAfterMs: err instanceof IntuneHttpError ? err.retryAfterMs : undefined,
        }),
        config.retry,
        config.sleep,
      );
    } catch (err) {
      config.logger.error(
        { ...logContext, err: { name: (err as Error).name, code: (err as { code?: unknown }).code } },
        `intune ${call.op} failed`,
      );
      throw err;
    }
  }

  private async postOnce(
    call: ServiceCall,
    activityId: string,
    url: string,
    token: string,
    map: Promise<ServiceMap>,
    attempt: number,
  ): Promise<ServiceAnswer> {
    const { config } = this;
    config.logger.debug({ activityId, op: call.op, attempt, url }, 'intune POST');
    let r;
    try {
      r = await httpRequest(this.#dispatcher, config.timeoutMs, activityId, url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'client-request-id': activityId,
          'api-version': call.apiVersion,
          'Content-Type': 'application/json; charset=utf-8',
          Accept: 'application/json',
          // Header name as Microsoft's Java library sends it (not User-Agent).
          UserAgent: config.providerNameAndVersion,
          'User-Agent': config.providerNameAndVersion,
        },
        body: JSON.stringify(call.body),
      });
    } catch (err) {
      this.#discovery.invalidate(map, activityId);
      throw err;
    }
    if (r.status < 200 || r.status > 299) {
      this.#discovery.invalidate(map, activityId);
      if (r.status === 401 || r.status === 403) this.#tokens.invalidate(config.intuneScope);
      const retryAfterMs = parseRetryAfter(r.headers['retry-after']);
      throw new IntuneHttpError({ status: r.status, body: r.text, url, activityId, retryAfterMs });
    }
    let json: unknown;
    try {
      json = JSON.parse(r.text);
    } catch {
      throw new IntuneProtocolError({
        message: 'Failed to parse JSON response from Intune',
        url,
        activityId,
        body: r.text,
      });
    }
    return { activityId, url, json, text: r.text };
  }

  /** Closes the connection pool this client created (not a caller-supplied dispatcher). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}
