import type { KeyObject } from 'node:crypto';
import type { Clock } from './clock.js';
import type { EmulatorKeys } from './keys.js';
import type { EmulatorState } from './state.js';

/** A request as the handlers see it: transport-independent, so they run in-process or behind fastify. */
export interface EmulatorRequest {
  method: string;
  /** Path and query, e.g. `/contoso.onmicrosoft.com/oauth2/v2.0/token?client-request-id=...`. */
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: string;
}

/** A handler's answer. `drop: true` asks the transport to destroy the socket without answering. */
export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | object;
  drop?: boolean;
}

/** What every handler needs. `baseUrl` is the emulator's public origin (no trailing slash). */
export interface EmulatorContext {
  state: EmulatorState;
  keys: EmulatorKeys;
  verifyKey: KeyObject;
  now: Clock;
  baseUrl: string;
  tokenLifetimeSeconds: number;
  challengeLifetimeMinutes: number;
  challengePaddingBytes: number;
}

export function json(status: number, body: object, headers?: Record<string, string>): EmulatorResponse {
  return { status, body, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

/** OData error body, as Graph and the Intune services answer (docs/intune-api.md §1.4, §1.8). */
export function odataError(status: number, code: string, message: string): EmulatorResponse {
  return json(status, { error: { code, message, innerError: { date: new Date().toISOString() } } });
}

/** Entra ID (AAD) error body (`error`, `error_description` with the AADSTS code, `error_codes`, ...). */
export function aadError(
  now: number,
  status: number,
  error: string,
  aadsts: number,
  text: string,
): EmulatorResponse {
  const timestamp = new Date(now)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const traceId = '00000000-0000-0000-0000-000000000000';
  return json(status, {
    error,
    error_description: `AADSTS${aadsts}: ${text} Trace ID: ${traceId} Correlation ID: ${traceId} Timestamp: ${timestamp}`,
    error_codes: [aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: traceId,
  });
}

/** Parses a JSON body; undefined if it is not JSON. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
