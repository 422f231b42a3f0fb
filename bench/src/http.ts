import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Agent } from 'node:http';

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/**
 * One HTTP(S) exchange over `agent` (keep-alive; an `https.Agent` carrying the trusted CA for https URLs),
 * bounded by `timeoutMs`.
 */
export function httpExchange(
  agent: Agent,
  url: URL,
  method: 'GET' | 'POST' | 'DELETE',
  body: Uint8Array | undefined,
  timeoutMs: number,
  contentType = 'application/x-pki-message',
): Promise<HttpAnswer> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method,
        timeout: timeoutMs,
        headers: body ? { 'content-type': contentType, 'content-length': body.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
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
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
