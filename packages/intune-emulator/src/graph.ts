import { checkBearer } from './auth.js';
import { json, type EmulatorContext, type EmulatorRequest, type EmulatorResponse } from './http.js';
import { INTUNE_APP_ID } from './model.js';

/** Paths (under the emulator origin) of the two Intune services that discovery advertises. */
export const SCEP_SERVICE_PATH =
  '/RACerts/ScepRequestValidationFEService/Gateway/StatelessScepRequestValidationService';
export const PKI_SERVICE_PATH = '/RACerts/StatelessPkiConnectorService/Gateway/StatelessPkiConnectorService';
export const DISCOVERY_PATH = `/v1.0/servicePrincipals/appId=${INTUNE_APP_ID}/endpoints`;

/** `GET /v1.0/servicePrincipals/appId=0000000a-.../endpoints` (docs/intune-api.md §1.4). */
export function discovery(ctx: EmulatorContext, req: EmulatorRequest): EmulatorResponse {
  const identity = checkBearer(ctx, req, 'graph');
  if ('status' in identity) return identity;
  const endpoint = (providerName: string, path: string, n: number): object => ({
    id: `e0c5e9a8-0000-4000-8000-00000000000${n}`,
    deletedDateTime: null,
    capability: providerName,
    providerId: INTUNE_APP_ID,
    providerName,
    providerResourceId: null,
    uri: `${ctx.baseUrl}${path}`,
  });
  return json(200, {
    '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/endpoints',
    value: [
      endpoint('ScepRequestValidationFEService', SCEP_SERVICE_PATH, 1),
      endpoint('PkiConnectorFEService', PKI_SERVICE_PATH, 2),
      endpoint('IntuneDeviceCheckinService', '/TrafficGateway/TrafficRoutingService/SCEP', 3),
    ],
  });
}
