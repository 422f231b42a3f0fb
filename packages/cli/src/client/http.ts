import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

export interface HttpOptions {
  method?: 'GET' | 'POST';
  body?: Uint8Array;
  contentType?: string;
  /** Extra CA certificates (PEM) to trust for HTTPS. */
  ca?: string;
  timeoutMs?: number;
  /** Largest response accepted. */
  maxBytes?: number;
}

/** A small HTTP(S) client over node:http: per-call CA trust and a hard timeout, no global state. */
export function fetchBytes(url: URL, o: HttpOptions = {}): Promise<HttpResponse> {
  const maxBytes = o.maxBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: o.method ?? 'GET',
        headers: {
          'user-agent': 'scepkit-enroll',
          ...(o.body ? { 'content-type': o.contentType ?? 'application/x-pki-message' } : {}),
          ...(o.body ? { 'content-length': String(o.body.length) } : {}),
        },
        ...(o.ca ? { ca: o.ca } : {}),
        timeout: o.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new Error(`response larger than ${maxBytes} bytes`));
          else chunks.push(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from ${url.host} within ${o.timeoutMs ?? 30_000} ms`)),
    );
    req.on('error', reject);
    if (o.body) req.end(o.body);
    else req.end();
  });
}
