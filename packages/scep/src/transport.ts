import { ScepError } from './errors.js';

/** HTTP content types of SCEP (RFC 8894 §4). */
export const CONTENT_TYPES = {
  pkiMessage: 'application/x-pki-message',
  caCert: 'application/x-x509-ca-cert',
  caRaCert: 'application/x-x509-ca-ra-cert',
  nextCaCert: 'application/x-x509-next-ca-cert',
  caps: 'text/plain',
} as const;

/** The SCEP operations (RFC 8894 §4.1). */
export const OPERATIONS = ['GetCACaps', 'GetCACert', 'GetNextCACert', 'PKIOperation'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Largest base64 `message` accepted in a GET (Intune challenges make URLs of several kB). */
export const MAX_GET_MESSAGE_CHARS = 64 * 1024;

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ScepError('malformed', 'message parameter has a bad percent-encoding');
  }
}

/**
 * Reads `operation` and `message` from a raw query string (before any `+` -> space translation), because clients
 * differ: standard base64 percent-encoded (certmonger), with unescaped `+` (macOS), base64url (micromdm scepclient).
 */
export function parseScepQuery(rawQuery: string): {
  operation: string | undefined;
  message: string | undefined;
} {
  let operation: string | undefined;
  let message: string | undefined;
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    // A literal '+' in a query means '+' here, never a space: base64 has no spaces.
    if (key === 'operation' && operation === undefined) operation = percentDecode(value);
    else if (key === 'message' && message === undefined) {
      if (value.length > MAX_GET_MESSAGE_CHARS * 3)
        throw new ScepError('limitExceeded', 'message parameter too long');
      message = percentDecode(value);
    }
  }
  return { operation, message };
}

/** Decodes a GET PKIOperation `message`: standard base64 or base64url, with or without padding or line breaks. */
export function decodeBase64Message(message: string): Uint8Array {
  const s = message.replace(/[\s]/g, (c) => (c === ' ' ? '+' : ''));
  if (s.length === 0) throw new ScepError('malformed', 'message parameter is empty');
  if (s.length > MAX_GET_MESSAGE_CHARS) throw new ScepError('limitExceeded', 'message parameter too long');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s))
    throw new ScepError('malformed', 'message parameter is not base64');
  const std = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (std.length % 4 === 1) throw new ScepError('malformed', 'message parameter has a bad base64 length');
  return new Uint8Array(Buffer.from(std, 'base64'));
}
