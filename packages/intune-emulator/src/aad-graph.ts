import { checkBearer } from './auth.js';
import { PKI_SERVICE_PATH, SCEP_SERVICE_PATH } from './graph.js';
import { json, type EmulatorContext, type EmulatorRequest, type EmulatorResponse } from './http.js';
import { INTUNE_APP_ID } from './model.js';

/** AAD Graph's error shape (seen in Intune-Resource-Access #112). */
function aadGraphError(status: number, code: string, message: string): EmulatorResponse {
  return json(status, { 'odata.error': { code, message: { lang: 'en', value: message } } });
}

/**
 * `GET /{tenant}/servicePrincipalsByAppId/{appId}/serviceEndpoints?api-version=1.6`: the retired AAD Graph
 * discovery the CsrValidation library falls back to (docs/intune-api.md §1.4). Items carry `serviceName`.
 * Needs the `Directory.Read.All` AAD Graph permission, which Intune's onboarding never asks for: so a
 * standard app gets the 403 of issue #112.
 */
export function aadGraphDiscovery(
  ctx: EmulatorContext,
  req: EmulatorRequest,
  tenantSegment: string,
  appId: string,
): EmulatorResponse {
  const identity = checkBearer(ctx, req, 'aadGraph');
  if ('status' in identity) {
    return identity.status === 403
      ? aadGraphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
        )
      : aadGraphError(401, 'Authentication_MissingOrMalformed', 'Access Token missing or malformed.');
  }
  const tenant = ctx.state.findTenant(tenantSegment);
  if (!tenant || tenant.id !== identity.tenantId) {
    return aadGraphError(
      400,
      'Request_BadRequest',
      `Invalid domain name in the request url: ${tenantSegment}.`,
    );
  }
  if (new URL(req.url, ctx.baseUrl).searchParams.get('api-version') !== '1.6') {
    return aadGraphError(400, 'Request_BadRequest', 'The specified api-version is invalid.');
  }
  if (appId.toLowerCase() !== INTUNE_APP_ID) {
    return aadGraphError(404, 'Request_ResourceNotFound', `Resource '${appId}' does not exist.`);
  }
  const endpoint = (serviceName: string, path: string): object => ({
    'odata.type': 'Microsoft.DirectoryServices.ServiceEndpoint',
    objectType: 'ServiceEndpoint',
    objectId: `${serviceName.length.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    deletionTimestamp: null,
    capability: serviceName,
    serviceId: INTUNE_APP_ID,
    serviceName,
    uri: `${ctx.baseUrl}${path}`,
    resourceId: INTUNE_APP_ID,
  });
  return json(200, {
    'odata.metadata': `${ctx.baseUrl}/${tenant.id}/$metadata#directoryObjects/Microsoft.DirectoryServices.ServiceEndpoint`,
    value: [
      endpoint('ScepRequestValidationFEService', SCEP_SERVICE_PATH),
      endpoint('PkiConnectorFEService', PKI_SERVICE_PATH),
    ],
  });
}
