import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, ProxyAgent, fetch, type Dispatcher } from 'undici';
import type { ResolvedConfig } from './config.js';
import { IntuneNetworkError } from './errors.js';

/** What one HTTP exchange returned. */
export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  text: string;
}

/**
 * Builds the dispatcher all calls go through: the caller's, or an undici `ProxyAgent`/`Agent` carrying
 * the proxy and extra CA trust. Returns `owned: true` when we created it (and must close it).
 */
export function createDispatcher(config: ResolvedConfig): { dispatcher: Dispatcher; owned: boolean } {
  if (config.dispatcher) return { dispatcher: config.dispatcher, owned: false };
  // `ca` replaces Node's trust store, so keep the default roots next to the extra ones. One secure context
  // for all connections: parsing ~150 roots per TLS handshake is slow.
  const tls = config.ca
    ? { secureContext: createSecureContext({ ca: [...rootCertificates, ...config.ca] }) }
    : {};
  if (config.proxy) {
    const { url, username, password } = config.proxy;
    const token =
      username !== undefined
        ? `Basic ${Buffer.from(`${username}:${password ?? ''}`, 'utf8').toString('base64')}`
        : undefined;
    return {
      dispatcher: new ProxyAgent({ uri: url, ...(token ? { token } : {}), requestTls: tls }),
      owned: true,
    };
  }
  return { dispatcher: new Agent({ connect: tls }), owned: true };
}

/** One HTTP request with the per-request timeout; network failures become `IntuneNetworkError`. */
export async function httpRequest(
  dispatcher: Dispatcher,
  timeoutMs: number,
  activityId: string,
  url: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { ...init, dispatcher, signal });
    const text = await response.text();
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return { status: response.status, headers, text };
  } catch (err) {
    throw new IntuneNetworkError({ timeout: signal.aborted, url, activityId, cause: err });
  }
}
