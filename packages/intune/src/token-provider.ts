import { AuthError, ConfidentialClientApplication, ServerError, type Configuration } from '@azure/msal-node';
import type { Dispatcher } from 'undici';
import { explainAadsts, findAadsts } from './aadsts.js';
import type { ResolvedConfig } from './config.js';
import { IntuneTokenError } from './errors.js';
import { MsalNetworkModule } from './msal-network.js';

/** MSAL does not serve a token that has less than this left (its default renewal window). */
const RENEWAL_WINDOW_MS = 5 * 60_000;

/**
 * Client-credentials tokens through one MSAL `ConfidentialClientApplication`, whose in-memory cache serves
 * repeated calls and refreshes ahead of expiry. Concurrent callers of one scope share one in-flight request.
 * The token MSAL last gave for a scope is kept here too, until MSAL would stop serving it (its refresh time, or
 * five minutes before it expires): an MSAL cache lookup costs a few tenths of a millisecond of CPU, paid twice
 * per Intune enrollment otherwise.
 */
export class TokenProvider {
  private readonly msal: ConfidentialClientApplication;
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly stale = new Set<string>();
  private readonly held = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly config: ResolvedConfig,
    dispatcher: Dispatcher,
  ) {
    const cred = config.credential;
    const auth: Configuration['auth'] = {
      clientId: config.clientId,
      authority: config.authority,
      knownAuthorities: config.knownAuthorities,
      ...(cred.kind === 'secret'
        ? { clientSecret: cred.secret }
        : {
            clientCertificate: {
              thumbprintSha256: cred.certificate.fingerprint256.replaceAll(':', ''),
              privateKey: cred.privateKeyPem,
              x5c: cred.certificate.toString(),
            },
          }),
    };
    this.msal = new ConfidentialClientApplication({
      auth,
      system: {
        networkClient: new MsalNetworkModule(dispatcher, config),
        loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => undefined },
      },
    });
  }

  /**
   * Marks the cached token of `scope` as unusable (the service answered 401/403): the next `getToken` asks Entra
   * ID for a new one, which carries permissions granted since (e.g. admin consent given after the first call).
   */
  invalidate(scope: string): void {
    this.stale.add(scope);
    this.held.delete(scope);
  }

  /** A bearer token for `scope` (e.g. `https://api.manage.microsoft.com//.default`). */
  getToken(scope: string, activityId: string): Promise<string> {
    const held = this.held.get(scope);
    // Date.now, not config.now: MSAL's expiry times are on the real clock.
    if (held && Date.now() < held.until && !this.certificateExpired()) return Promise.resolve(held.token);
    const pending = this.inFlight.get(scope);
    if (pending) return pending;
    const request = this.acquire(scope, activityId).finally(() => this.inFlight.delete(scope));
    this.inFlight.set(scope, request);
    return request;
  }

  private certificateExpired(): boolean {
    const cred = this.config.credential;
    return cred.kind === 'certificate' && Date.parse(cred.certificate.validTo) < this.config.now();
  }

  private async acquire(scope: string, activityId: string): Promise<string> {
    this.held.delete(scope);
    const cred = this.config.credential;
    if (cred.kind === 'certificate' && this.certificateExpired()) {
      throw new IntuneTokenError({
        code: 'CLIENT_CERTIFICATE_EXPIRED',
        scope,
        hint: `the client certificate expired on ${cred.certificate.validTo}; register a new one`,
      });
    }
    let result;
    try {
      const skipCache = this.stale.delete(scope);
      result = await this.msal.acquireTokenByClientCredential({
        scopes: [scope],
        correlationId: activityId,
        ...(skipCache ? { skipCache } : {}),
      });
    } catch (err) {
      throw toTokenError(err, scope);
    }
    if (!result?.accessToken) {
      throw new IntuneTokenError({ code: 'TOKEN_ERROR', scope, hint: 'authentication result was empty' });
    }
    this.config.logger.debug({ activityId, op: 'token', scope, fromCache: result.fromCache }, 'intune token');
    const expires = result.expiresOn?.getTime();
    if (expires !== undefined && !this.stale.has(scope)) {
      const until = Math.min(expires - RENEWAL_WINDOW_MS, result.refreshOn?.getTime() ?? Infinity);
      if (until > Date.now()) this.held.set(scope, { token: result.accessToken, until });
    }
    return result.accessToken;
  }
}

function toTokenError(err: unknown, scope: string): IntuneTokenError {
  if (err instanceof AuthError) {
    const aadsts =
      err instanceof ServerError && err.errorNo ? `AADSTS${err.errorNo}` : findAadsts(err.errorMessage);
    const explained = aadsts ? explainAadsts(aadsts) : undefined;
    const unreachable = ['network_error', 'endpoints_resolution_error', 'openid_config_error'].includes(
      err.errorCode,
    );
    const code = explained?.code ?? (unreachable ? 'TOKEN_ENDPOINT_UNREACHABLE' : 'TOKEN_ERROR');
    const hint =
      explained?.hint ??
      (unreachable
        ? 'the token endpoint could not be reached; check AUTH_AUTHORITY, the proxy and TLS trust'
        : 'Entra ID refused the client credentials');
    // The first line of an AADSTS description carries the reason; later lines hold trace ids only.
    const detail = `${err.errorCode}: ${err.errorMessage.split(/\r?\n/)[0] ?? ''}`;
    return new IntuneTokenError({ code, scope, hint, aadsts, oauthError: err.errorCode, detail, cause: err });
  }
  return new IntuneTokenError({ code: 'TOKEN_ERROR', scope, hint: 'token acquisition failed', cause: err });
}
