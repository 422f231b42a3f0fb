import { X509Certificate, createPublicKey, randomUUID } from 'node:crypto';
import { decodeJwt, signJwt, verifyJwtSignature, type JwtAlgorithm } from './jwt.js';
import { aadError, json, type EmulatorContext, type EmulatorRequest, type EmulatorResponse } from './http.js';
import type { AppRegistration, Tenant } from './model.js';
import { resourceAudience, resourceForScope } from './resources.js';
import { sha256 } from './state.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Entra tolerates five minutes of clock skew on client assertions. */
const SKEW_SECONDS = 300;

const tenantNotFound = (ctx: EmulatorContext, tenant: string): EmulatorResponse =>
  aadError(
    ctx.now(),
    400,
    'invalid_request',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  );

/** `GET /{tenant}/v2.0/.well-known/openid-configuration` (what MSAL reads, docs/intune-api.md §7). */
export function openIdConfiguration(ctx: EmulatorContext, tenantSegment: string): EmulatorResponse {
  const tenant = ctx.state.findTenant(tenantSegment);
  if (!tenant) return tenantNotFound(ctx, tenantSegment);
  const base = `${ctx.baseUrl}/${tenantSegment}`;
  return json(200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${ctx.baseUrl}/${tenant.id}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${ctx.baseUrl}/${tenant.id}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
  });
}

/** `GET /common/discovery/instance` (MSAL instance discovery when the authority is not a known one). */
export function instanceDiscovery(ctx: EmulatorContext, req: EmulatorRequest): EmulatorResponse {
  const host = new URL(ctx.baseUrl).host;
  const authorize = new URL(req.url, ctx.baseUrl).searchParams.get('authorization_endpoint') ?? '';
  const tenant = /^https:\/\/[^/]+\/([^/]+)\//.exec(authorize)?.[1] ?? 'common';
  return json(200, {
    tenant_discovery_endpoint: `${ctx.baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [
      {
        preferred_network: host,
        preferred_cache: host,
        aliases: [host, host.replace('127.0.0.1', 'localhost')],
      },
    ],
  });
}

/** `GET /{tenant}/discovery/v2.0/keys`: the token signing key as a JWK set. */
export function jwks(ctx: EmulatorContext): EmulatorResponse {
  const jwk = createPublicKey(ctx.keys.signingKey).export({ format: 'jwk' });
  return json(200, { keys: [{ kty: 'RSA', use: 'sig', kid: ctx.keys.signingKeyId, n: jwk.n, e: jwk.e }] });
}

/**
 * `POST /{tenant}/oauth2/v2.0/token` (and the v1 `/oauth2/token` with `resource=`): client credentials with a
 * client secret or an RS256/PS256 certificate assertion. Errors in Entra's shape and codes.
 */
export function token(
  ctx: EmulatorContext,
  req: EmulatorRequest,
  tenantSegment: string,
  v1: boolean,
): EmulatorResponse {
  const now = ctx.now();
  const tenant = ctx.state.findTenant(tenantSegment);
  if (!tenant) return tenantNotFound(ctx, tenantSegment);
  const form = new URLSearchParams(req.body);
  if (form.get('grant_type') !== 'client_credentials') {
    return aadError(
      now,
      400,
      'unsupported_grant_type',
      70003,
      'The app requested an unsupported grant type.',
    );
  }
  const clientId = form.get('client_id') ?? '';
  const app = ctx.state.findApp(tenant.id, clientId);
  if (!app) {
    return aadError(
      now,
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  const credentialError = form.has('client_secret')
    ? checkSecret(ctx, app, form.get('client_secret') ?? '')
    : form.has('client_assertion')
      ? checkAssertion(ctx, app, tenant, form)
      : aadError(
          now,
          400,
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
  if (credentialError) return credentialError;
  const requested = v1
    ? (form.get('resource') ?? '')
    : ((form.get('scope') ?? '').split(' ').find((s) => s.endsWith('.default')) ?? '');
  const resource = resourceForScope(requested, ctx.baseUrl);
  if (!resource) {
    return aadError(
      now,
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${requested} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    );
  }
  const roles = app.adminConsent
    ? app.permissions.filter((p) => p.resource === resource).map((p) => p.name)
    : [];
  const iat = Math.floor(now / 1000);
  const exp = iat + ctx.tokenLifetimeSeconds;
  const claims: Record<string, unknown> = {
    aud: resourceAudience(resource),
    iss: `https://sts.windows.net/${tenant.id}/`,
    iat,
    nbf: iat,
    exp,
    aio: randomUUID(),
    app_displayname: app.displayName,
    appid: app.clientId,
    appidacr: form.has('client_secret') ? '1' : '2',
    idp: `https://sts.windows.net/${tenant.id}/`,
    idtyp: 'app',
    oid: app.objectId,
    ...(roles.length > 0 ? { roles } : {}),
    sub: app.objectId,
    tid: tenant.id,
    uti: randomUUID().replaceAll('-', '').slice(0, 22),
    ver: '1.0',
  };
  const accessToken = signJwt(
    { kid: ctx.keys.signingKeyId, x5t: ctx.keys.signingKeyId },
    claims,
    ctx.keys.signingKey,
  );
  return json(200, {
    token_type: 'Bearer',
    expires_in: ctx.tokenLifetimeSeconds,
    ext_expires_in: ctx.tokenLifetimeSeconds,
    ...(v1 ? { expires_on: String(exp), not_before: String(iat), resource: requested } : {}),
    access_token: accessToken,
  });
}

function checkSecret(
  ctx: EmulatorContext,
  app: AppRegistration,
  value: string,
): EmulatorResponse | undefined {
  const now = ctx.now();
  const secret = app.secrets.find((s) => s.sha256 === sha256(value));
  if (!secret) {
    return aadError(
      now,
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
    );
  }
  if (Date.parse(secret.expiresAt) <= now) {
    return aadError(
      now,
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    );
  }
  return undefined;
}

/** RFC 7523 §3 client assertion, as Entra checks it. */
function checkAssertion(
  ctx: EmulatorContext,
  app: AppRegistration,
  tenant: Tenant,
  form: URLSearchParams,
): EmulatorResponse | undefined {
  const now = ctx.now();
  const fail = (code: number, text: string): EmulatorResponse =>
    aadError(now, 401, 'invalid_client', code, text);
  if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
    return aadError(now, 400, 'invalid_request', 50027, 'Invalid client_assertion_type.');
  }
  const jwt = decodeJwt(form.get('client_assertion') ?? '');
  if (!jwt) return fail(50027, 'JWT token is invalid or malformed.');
  const alg = jwt.header['alg'];
  if (alg !== 'RS256' && alg !== 'PS256')
    return fail(700027, `Client assertion algorithm '${String(alg)}' is not supported.`);
  const cert = app.certificates.find(
    (c) =>
      (jwt.header['x5t#S256'] !== undefined && c.x5tS256 === jwt.header['x5t#S256']) ||
      (jwt.header['x5t'] !== undefined && c.x5t === jwt.header['x5t']),
  );
  if (!cert) {
    return fail(
      700027,
      'The certificate with identifier used to sign the client assertion is not registered on application.',
    );
  }
  const publicKey = new X509Certificate(cert.pem).publicKey;
  if (!verifyJwtSignature(jwt, publicKey, alg as JwtAlgorithm)) {
    return fail(700027, 'Client assertion failed signature validation.');
  }
  const c = jwt.claims;
  if (c['iss'] !== app.clientId || c['sub'] !== app.clientId) {
    return fail(700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
  }
  const audiences = tokenEndpoints(ctx.baseUrl, tenant);
  if (typeof c['aud'] !== 'string' || !audiences.includes(c['aud'])) {
    return fail(700027, `Client assertion contains an invalid audience '${String(c['aud'])}'.`);
  }
  const nowSec = now / 1000;
  const exp = c['exp'];
  const nbf = c['nbf'];
  if (
    typeof exp !== 'number' ||
    exp + SKEW_SECONDS <= nowSec ||
    (typeof nbf === 'number' && nbf - SKEW_SECONDS > nowSec)
  ) {
    return fail(700024, 'Client assertion is not within its valid time range.');
  }
  if (Date.parse(cert.notAfter) <= now)
    return fail(700027, 'The certificate used to sign the client assertion has expired.');
  return undefined;
}

/** Accepted assertion audiences: the token endpoints of the tenant under every name. */
function tokenEndpoints(baseUrl: string, tenant: Tenant): string[] {
  const origins = [baseUrl, baseUrl.replace('127.0.0.1', 'localhost')];
  return origins.flatMap((o) =>
    [tenant.id, tenant.domain].flatMap((t) => [`${o}/${t}/oauth2/v2.0/token`, `${o}/${t}/oauth2/token`]),
  );
}
