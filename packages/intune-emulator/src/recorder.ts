import type { EmulatorRequest } from './http.js';

/** One request as the emulator received it, with secrets removed. */
export interface RecordedRequest {
  seq: number;
  at: string;
  /** `token`, `openid`, `instanceDiscovery`, `jwks`, `discovery`, `validateRequest`, ..., `admin`, `unknown`. */
  operation: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Body with `client_secret` / `client_assertion` replaced by `<redacted>`. */
  body: string;
}

const SECRET_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
const SECRET_FIELDS = ['client_secret', 'client_assertion'];

/** Redacts a request for the log: header values of credentials keep their scheme only. */
export function redact(req: EmulatorRequest, seq: number, at: number, operation: string): RecordedRequest {
  const url = new URL(req.url, 'https://emulator');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    headers[k] = SECRET_HEADERS.has(k) ? `${v.split(' ')[0] ?? ''} <redacted>` : v;
  }
  let body = req.body;
  if (
    operation === 'token' ||
    (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')
  ) {
    const form = new URLSearchParams(req.body);
    for (const f of SECRET_FIELDS) if (form.has(f)) form.set(f, '<redacted>');
    body = form.toString();
  }
  return {
    seq,
    at: new Date(at).toISOString(),
    operation,
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
  };
}
