import {
  json,
  odataError,
  parseJson,
  type EmulatorContext,
  type EmulatorRequest,
  type EmulatorResponse,
} from './http.js';
import { isObject } from './jwt.js';
import { CA_REQUEST_ERROR_CODES, PKI_API_VERSION, type CaRequestErrorCode } from './model.js';
import { checkIntuneCall } from './scep-actions.js';

export const MAX_REVOCATION_REQUESTS = 500;

/** `POST {pki}/CertificateAuthorityRequests/downloadRevocationRequests` (docs/intune-api.md §1.7). */
export function downloadRevocationRequests(ctx: EmulatorContext, req: EmulatorRequest): EmulatorResponse {
  const identity = checkIntuneCall(ctx, req, PKI_API_VERSION);
  if ('status' in identity) return identity;
  const body = parseJson(req.body);
  const params = isObject(body) ? (body['downloadParameters'] ?? body['DownloadParameters']) : undefined;
  if (!isObject(params))
    return odataError(400, 'BadRequest', "The body must hold a 'downloadParameters' object.");
  const max = params['maxRequests'] ?? params['MaxRequests'];
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_REVOCATION_REQUESTS) {
    return odataError(400, 'BadRequest', `maxRequests must be an integer 1..${MAX_REVOCATION_REQUESTS}.`);
  }
  const issuer = params['issuerName'] ?? params['IssuerName'];
  const due = ctx.state.revocations
    .filter((r) => r.tenantId === identity.tenantId && (r.state === 'pending' || r.state === 'downloaded'))
    .filter((r) => typeof issuer !== 'string' || r.issuerName === issuer)
    .slice(0, max);
  for (const r of due) r.state = 'downloaded';
  return json(200, {
    '@odata.context': `${ctx.baseUrl}/RACerts/StatelessPkiConnectorService/$metadata#Collection(microsoft.management.services.api.caRevocationRequest)`,
    value: due.map((r) => ({
      requestContext: r.requestContext,
      serialNumber: r.serialNumber,
      issuerName: r.issuerName,
      caConfiguration: r.caConfiguration,
    })),
  });
}

/**
 * Maps an uploaded `errorCode` to its enum name: Java sends numeric strings (`"4004"`), C# the enum name
 * (`"CertificateNotFoundError"`) (docs/intune-api.md §1.7). Undefined if neither.
 */
export function parseCaErrorCode(value: unknown): CaRequestErrorCode | undefined {
  const entries = Object.entries(CA_REQUEST_ERROR_CODES) as [CaRequestErrorCode, number][];
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) {
    return entries.find(([, n]) => n === Number(value))?.[0];
  }
  return entries.find(([name]) => name === value)?.[0];
}

/** Reads a key in camelCase or PascalCase (C# uploads PascalCase when it never downloaded first, §1.7). */
const field = (o: Record<string, unknown>, camel: string): unknown =>
  o[camel] !== undefined ? o[camel] : o[camel.charAt(0).toUpperCase() + camel.slice(1)];

/** `POST {pki}/CertificateAuthorityRequests/uploadRevocationResults`. */
export function uploadRevocationResults(ctx: EmulatorContext, req: EmulatorRequest): EmulatorResponse {
  const identity = checkIntuneCall(ctx, req, PKI_API_VERSION);
  if ('status' in identity) return identity;
  const body = parseJson(req.body);
  const results = isObject(body) ? field(body, 'results') : undefined;
  if (!Array.isArray(results) || results.length === 0) {
    return odataError(400, 'BadRequest', "The body must hold a non-empty 'results' array.");
  }
  const parsed = [];
  for (const item of results) {
    if (!isObject(item)) return odataError(400, 'BadRequest', 'Each result must be an object.');
    const requestContext = field(item, 'requestContext');
    const succeeded = field(item, 'succeeded');
    const errorCode = parseCaErrorCode(field(item, 'errorCode'));
    const errorMessage = field(item, 'errorMessage');
    if (typeof requestContext !== 'string' || typeof succeeded !== 'boolean' || errorCode === undefined) {
      return odataError(
        400,
        'BadRequest',
        'Each result needs requestContext, succeeded and a known errorCode.',
      );
    }
    if (succeeded !== (errorCode === 'None')) {
      return odataError(
        400,
        'BadRequest',
        `Result ${requestContext}: succeeded=${succeeded} with errorCode ${errorCode}.`,
      );
    }
    parsed.push({
      requestContext,
      succeeded,
      errorCode,
      errorMessage: typeof errorMessage === 'string' ? errorMessage : null,
    });
  }
  for (const result of parsed) {
    const request = ctx.state.revocations.find(
      (r) => r.requestContext === result.requestContext && r.tenantId === identity.tenantId,
    );
    if (!request) continue;
    request.state = result.succeeded ? 'succeeded' : 'failed';
    request.errorCode = result.errorCode;
    request.errorMessage = result.errorMessage;
    request.completedAt = new Date(ctx.now()).toISOString();
  }
  return json(200, { '@odata.context': `${ctx.baseUrl}/$metadata#Edm.Boolean`, value: true });
}
