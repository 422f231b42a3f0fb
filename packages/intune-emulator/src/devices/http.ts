import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DeviceError } from './errors.js';

/** One HTTP exchange of a device, as a demo prints it (the PKIOperation `message` is left out of `url`). */
export interface HttpExchange {
  operation: string;
  method: 'GET' | 'POST';
  url: string;
  status: number;
  contentType: string;
  userAgent: string;
  requestBytes: number;
  responseBytes: number;
}

export interface DeviceHttpRequest {
  operation: string;
  method: 'GET' | 'POST';
  /** Full URL, query already encoded exactly as the device encodes it. */
  url: string;
  /** The URL to record (without a PKIOperation message). */
  recordedUrl: string;
  userAgent: string;
  body?: Uint8Array;
  /** Extra CAs (PEM) trusted for HTTPS. */
  tlsCaPem?: string;
  timeoutMs?: number;
}

export interface DeviceHttpResponse {
  exchange: HttpExchange;
  body: Buffer;
}

/** Sends one request over node:http(s) with the path sent verbatim (no re-encoding of the query). */
export function deviceFetch(r: DeviceHttpRequest): Promise<DeviceHttpResponse> {
  const u = new URL(r.url);
  const rawPath = r.url.slice(r.url.indexOf('/', u.protocol.length + 2));
  const timeoutMs = r.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        hostname: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || (u.protocol === 'https:' ? 443 : 80),
        path: rawPath,
        method: r.method,
        headers: {
          'user-agent': r.userAgent,
          ...(r.body
            ? { 'content-type': 'application/x-pki-message', 'content-length': String(r.body.length) }
            : {}),
        },
        ...(r.tlsCaPem ? { ca: r.tlsCaPem } : {}),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            body,
            exchange: {
              operation: r.operation,
              method: r.method,
              url: r.recordedUrl,
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              userAgent: r.userAgent,
              requestBytes: r.body?.length ?? 0,
              responseBytes: body.length,
            },
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.host} within ${timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(
        new DeviceError('HTTP', `${r.operation}: ${r.method} ${r.recordedUrl}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    if (r.body) req.end(r.body);
    else req.end();
  });
}
