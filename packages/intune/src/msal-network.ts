import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { Dispatcher } from 'undici';
import type { ResolvedConfig } from './config.js';
import { IntuneNetworkError } from './errors.js';
import { isRetryableStatus, parseRetryAfter, withRetry } from './retry.js';
import { httpRequest, type HttpResponse } from './transport.js';

class RetryableStatus extends Error {
  constructor(
    readonly response: HttpResponse,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${response.status}`);
  }
}

/**
 * MSAL's network module on our dispatcher (proxy, extra CA trust, timeouts). Token and metadata calls are
 * safe to repeat, so network failures and 408/429/5xx are retried here with bounded backoff.
 */
export class MsalNetworkModule implements INetworkModule {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly config: ResolvedConfig,
  ) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions | undefined,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const activityId = options?.correlationId ?? '';
    const init = {
      method,
      headers: { ...options?.headers },
      ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
    };
    let response: HttpResponse;
    try {
      response = await withRetry(
        async () => {
          const r = await httpRequest(
            this.dispatcher,
            timeout ?? this.config.timeoutMs,
            activityId,
            url,
            init,
          );
          if (isRetryableStatus(r.status))
            throw new RetryableStatus(r, parseRetryAfter(r.headers['retry-after']));
          return r;
        },
        (err) => ({
          retry: err instanceof RetryableStatus || err instanceof IntuneNetworkError,
          retryAfterMs: err instanceof RetryableStatus ? err.retryAfterMs : undefined,
        }),
        this.config.retry,
        this.config.sleep,
      );
    } catch (err) {
      if (err instanceof RetryableStatus) response = err.response;
      else throw err;
    }
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      // MSAL reads `error`/`error_description` from the body; keep the status visible for non-JSON answers.
      body = { error: 'invalid_response', error_description: `non-JSON answer, HTTP ${response.status}` };
    }
    return { headers: response.headers, body: body as T, status: response.status };
  }
}
