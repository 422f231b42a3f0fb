import type { ScepErrorCode } from './error-codes.js';

/** Base class of every error thrown by `@scepkit/intune`. `code` is a stable machine-readable value. */
export class IntuneError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Intune answered HTTP 200 with a `code` other than `Success`. Final: never retried.
 * `code` is the parsed code (`Unknown` when not in Microsoft's list); `rawCode` is what the service sent.
 */
export class IntuneServiceError extends IntuneError<ScepErrorCode> {
  readonly rawCode: string;
  readonly description: string;
  readonly transactionId: string;
  readonly activityId: string;
  constructor(args: {
    code: ScepErrorCode;
    rawCode: string;
    description: string;
    transactionId: string;
    activityId: string;
  }) {
    super(
      args.code,
      `Intune rejected the request: ActivityId:${args.activityId},TransactionId:${args.transactionId},` +
        `ErrorCode:${args.rawCode},ErrorDescription:${args.description}`,
    );
    this.rawCode = args.rawCode;
    this.description = args.description;
    this.transactionId = args.transactionId;
    this.activityId = args.activityId;
  }
}

/** A non-2xx answer from Graph or an Intune service. `odataCode`/`odataMessage` come from an OData error body. */
export class IntuneHttpError extends IntuneError<'HTTP_ERROR'> {
  readonly status: number;
  readonly body: string;
  readonly url: string;
  readonly activityId: string;
  readonly odataCode: string | undefined;
  readonly odataMessage: string | undefined;
  /** From `Retry-After`, when the server sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(args: {
    status: number;
    body: string;
    url: string;
    activityId: string;
    hint?: string;
    retryAfterMs?: number | undefined;
  }) {
    const odata = parseODataError(args.body);
    super(
      'HTTP_ERROR',
      `HTTP ${args.status} from ${args.url} (activityId ${args.activityId})` +
        (odata.code ? `: ${odata.code}${odata.message ? `: ${odata.message}` : ''}` : '') +
        (args.hint ? `. ${args.hint}` : ''),
    );
    this.status = args.status;
    this.body = args.body;
    this.url = args.url;
    this.activityId = args.activityId;
    this.odataCode = odata.code;
    this.odataMessage = odata.message;
    this.retryAfterMs = args.retryAfterMs;
  }
}

/** The request never got an HTTP answer (DNS, connection refused, TLS, timeout), after any retries. */
export class IntuneNetworkError extends IntuneError<'NETWORK_ERROR' | 'TIMEOUT'> {
  readonly url: string;
  readonly activityId: string;
  constructor(args: { timeout: boolean; url: string; activityId: string; cause: unknown }) {
    const detail = args.cause instanceof Error ? describeCause(args.cause) : String(args.cause);
    super(
      args.timeout ? 'TIMEOUT' : 'NETWORK_ERROR',
      `${args.timeout ? 'timeout' : 'network error'} calling ${args.url} (activityId ${args.activityId}): ${detail}`,
      { cause: args.cause },
    );
    this.url = args.url;
    this.activityId = args.activityId;
  }
}

/** A 2xx answer that is not what the wire format promises (non-JSON, missing fields, upload not `true`). */
export class IntuneProtocolError extends IntuneError<'INVALID_RESPONSE'> {
  readonly url: string;
  readonly activityId: string;
  readonly body: string;
  constructor(args: { message: string; url: string; activityId: string; body: string }) {
    super('INVALID_RESPONSE', `${args.message} (from ${args.url}, activityId ${args.activityId})`);
    this.url = args.url;
    this.activityId = args.activityId;
    this.body = args.body;
  }
}

/** Graph discovery did not list a required Intune service. */
export class IntuneServiceNotFoundError extends IntuneError<'SERVICE_NOT_FOUND'> {
  readonly serviceName: string;
  constructor(serviceName: string) {
    super(
      'SERVICE_NOT_FOUND',
      `Did not find service named '${serviceName}' listed in Microsoft.Graph discovery service list. ` +
        `Check that the Entra app has the Intune application permission 'scep_challenge_provider' and the ` +
        `Microsoft Graph application permission 'Application.Read.All', that admin consent was granted, ` +
        `and that TENANT is the tenant holding the Intune subscription.`,
    );
    this.serviceName = serviceName;
  }
}

/** Invalid or missing configuration. `key` names the option (or Microsoft property) at fault. */
export class IntuneConfigurationError extends IntuneError<'CONFIGURATION_ERROR'> {
  readonly key: string;
  constructor(key: string, message: string) {
    super('CONFIGURATION_ERROR', `invalid Intune configuration: ${key}: ${message}`);
    this.key = key;
  }
}

/** Why a token could not be obtained; see `explainAadsts`. */
export type TokenErrorCode =
  | 'INVALID_CLIENT_SECRET'
  | 'CLIENT_SECRET_EXPIRED'
  | 'INVALID_CLIENT_CERTIFICATE'
  | 'CLIENT_CERTIFICATE_EXPIRED'
  | 'APPLICATION_NOT_FOUND'
  | 'TENANT_NOT_FOUND'
  | 'RESOURCE_NOT_FOUND'
  | 'APPLICATION_DISABLED'
  | 'TOKEN_ENDPOINT_UNREACHABLE'
  | 'TOKEN_ERROR';

/** Entra ID refused (or could not be reached for) a client-credentials token. */
export class IntuneTokenError extends IntuneError<TokenErrorCode> {
  /** e.g. `AADSTS7000215`, when the token endpoint sent one. */
  readonly aadsts: string | undefined;
  /** OAuth2 `error`, e.g. `invalid_client`. */
  readonly oauthError: string | undefined;
  readonly scope: string;
  readonly hint: string;
  constructor(args: {
    code: TokenErrorCode;
    scope: string;
    hint: string;
    aadsts?: string | undefined;
    oauthError?: string | undefined;
    detail?: string | undefined;
    cause?: unknown;
  }) {
    super(
      args.code,
      `could not get a token for ${args.scope}: ${args.hint}` +
        (args.aadsts ? ` (${args.aadsts})` : '') +
        (args.detail ? `: ${args.detail}` : ''),
      { cause: args.cause },
    );
    this.aadsts = args.aadsts;
    this.oauthError = args.oauthError;
    this.scope = args.scope;
    this.hint = args.hint;
  }
}

function parseODataError(body: string): { code: string | undefined; message: string | undefined } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return { code: undefined, message: undefined };
    const record = parsed as Record<string, unknown>;
    const err = (record['error'] ?? record['odata.error']) as Record<string, unknown> | undefined;
    if (typeof err !== 'object' || err === null) return { code: undefined, message: undefined };
    const code = typeof err['code'] === 'string' ? err['code'] : undefined;
    const msg = err['message'];
    const message =
      typeof msg === 'string'
        ? msg
        : typeof msg === 'object' &&
            msg !== null &&
            typeof (msg as Record<string, unknown>)['value'] === 'string'
          ? ((msg as Record<string, unknown>)['value'] as string)
          : undefined;
    return { code, message };
  } catch {
    return { code: undefined, message: undefined };
  }
}

function describeCause(err: Error): string {
  const inner = (err as { cause?: unknown }).cause;
  if (inner instanceof Error) return `${err.message}: ${inner.message}`;
  return err.message;
}

/** A method argument is missing or out of range (e.g. `maxRequests` not in 1..500). */
export class IntuneArgumentError extends IntuneError<'INVALID_ARGUMENT'> {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('INVALID_ARGUMENT', `${argument}: ${message}`);
    this.argument = argument;
  }
}
