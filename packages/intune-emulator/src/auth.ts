import type { DecodedJwt } from './jwt.js';
import { decodeJwt, verifyJwtSignature } from './jwt.js';
import { type EmulatorContext, type EmulatorRequest, type EmulatorResponse, odataError } from './http.js';
import type { ResourceName } from './model.js';
import { PERMISSIONS } from './model.js';
import { resourceAudience } from './resources.js';

/** The checked claims of a bearer token. */
export interface BearerIdentity {
  tenantId: string;
  appId: string;
  roles: string[];
}

/**
 * Checks `Authorization: Bearer` for `resource`: signature, expiry, audience, and the resource's application
 * permission in `roles`. Answers like the real service otherwise: 401 for a bad token, 403 for a missing role.
 */
export function checkBearer(
  ctx: EmulatorContext,
  req: EmulatorRequest,
  resource: ResourceName,
): BearerIdentity | EmulatorResponse {
  const unauthorized = (message: string): EmulatorResponse =>
    odataError(401, resource === 'graph' ? 'InvalidAuthenticationToken' : 'Unauthorized', message);
  const header = req.headers['authorization'] ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) return unauthorized('Access token is empty.');
  const jwt: DecodedJwt | undefined = decodeJwt(match[1]);
  if (!jwt || jwt.header['alg'] !== 'RS256' || !verifyJwtSignature(jwt, ctx.verifyKey, 'RS256')) {
    return unauthorized('Access token validation failure. Invalid signature.');
  }
  const { claims } = jwt;
  const nowSec = Math.floor(ctx.now() / 1000);
  if (typeof claims['exp'] !== 'number' || claims['exp'] <= nowSec) {
    return unauthorized('Lifetime validation failed, the token is expired.');
  }
  if (claims['aud'] !== resourceAudience(resource)) {
    return unauthorized('Access token validation failure. Invalid audience.');
  }
  const roles = Array.isArray(claims['roles']) ? claims['roles'].filter((r) => typeof r === 'string') : [];
  if (!roles.includes(PERMISSIONS[resource])) {
    return resource === 'graph'
      ? odataError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
      : odataError(403, 'Forbidden', `The caller does not have the '${PERMISSIONS[resource]}' permission.`);
  }
  return { tenantId: String(claims['tid']), appId: String(claims['appid']), roles };
}
