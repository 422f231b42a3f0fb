import { checkBearer, type BearerIdentity } from './auth.js';
import { recordFailure, recordSuccess } from './deployment.js';
import { ChallengeValidationError } from './errors.js';
import {
  json,
  odataError,
  parseJson,
  type EmulatorContext,
  type EmulatorRequest,
  type EmulatorResponse,
} from './http.js';
import { isObject } from './jwt.js';
import { SCEP_API_VERSION } from './model.js';
import { checkRequest, validateCertificateRequest } from './validate.js';

export type ScepAction = 'validateRequest' | 'successNotification' | 'failureNotification';

const ODATA_CONTEXT = (baseUrl: string): string =>
  `${baseUrl}/RACerts/StatelessScepRequestValidationService/$metadata#microsoft.management.services.scepRequestValidationService.api.scepActionResult`;

/** `{code, errorDescription, @odata.context}` with HTTP 200, as the service answers every outcome (§1.6). */
export function scepResult(ctx: EmulatorContext, code: string, errorDescription = ''): EmulatorResponse {
  return json(200, { '@odata.context': ODATA_CONTEXT(ctx.baseUrl), code, errorDescription });
}

/** Checks `api-version` and the bearer token for the Intune resource with `scep_challenge_provider`. */
export function checkIntuneCall(
  ctx: EmulatorContext,
  req: EmulatorRequest,
  apiVersion: string,
): BearerIdentity | EmulatorResponse {
  const identity = checkBearer(ctx, req, 'intune');
  if ('status' in identity) return identity;
  if (req.headers['api-version'] !== apiVersion) {
    return odataError(
      400,
      'BadRequest',
      `The api-version '${req.headers['api-version'] ?? ''}' is not supported; expected '${apiVersion}'.`,
    );
  }
  return identity;
}

const str = (o: Record<string, unknown>, k: string): string | undefined =>
  typeof o[k] === 'string' && o[k] !== '' ? o[k] : undefined;

/** `POST {scep}/ScepActions/{action}`. */
export async function scepAction(
  ctx: EmulatorContext,
  req: EmulatorRequest,
  action: ScepAction,
): Promise<EmulatorResponse> {
  const identity = checkIntuneCall(ctx, req, SCEP_API_VERSION);
  if ('status' in identity) return identity;
  const body = parseJson(req.body);
  const wrapper = action === 'validateRequest' ? 'request' : 'notification';
  const inner = isObject(body) ? body[wrapper] : undefined;
  if (!isObject(inner)) return odataError(400, 'BadRequest', `The body must hold a '${wrapper}' object.`);
  const transactionId = str(inner, 'transactionId');
  const csr = str(inner, 'certificateRequest');
  const required =
    action === 'successNotification'
      ? [
          'certificateThumbprint',
          'certificateSerialNumber',
          'certificateExpirationDateUtc',
          'issuingCertificateAuthority',
        ]
      : action === 'failureNotification'
        ? ['errorDescription']
        : [];
  const missing = [
    transactionId ? [] : ['transactionId'],
    csr ? [] : ['certificateRequest'],
    required.filter((k) => !str(inner, k)),
  ].flat();
  if (missing.length > 0)
    return odataError(400, 'BadRequest', `Missing required parameter(s): ${missing.join(', ')}.`);
  if (action === 'failureNotification' && !Number.isInteger(inner['hResult'])) {
    return odataError(400, 'BadRequest', "'hResult' must be an integer.");
  }
  try {
    if (action === 'validateRequest') {
      await validateCertificateRequest(ctx, csr ?? '', identity.tenantId);
      return scepResult(ctx, 'Success');
    }
    const { claims } = await checkRequest(ctx, csr ?? '', identity.tenantId);
    const target = {
      deviceId: claims.deviceId,
      profileId: claims.profileId,
      requestId: claims.requestId,
      ...(claims.userId ? { userId: claims.userId } : {}),
    };
    if (action === 'successNotification') {
      recordSuccess(ctx, target, {
        thumbprint: str(inner, 'certificateThumbprint') ?? '',
        serialNumber: str(inner, 'certificateSerialNumber') ?? '',
        expiresAt: str(inner, 'certificateExpirationDateUtc') ?? '',
        issuer: str(inner, 'issuingCertificateAuthority') ?? '',
        transactionId: transactionId ?? '',
        caConfiguration: str(inner, 'caConfiguration') ?? null,
        certificateAuthority: str(inner, 'certificateAuthority') ?? null,
      });
    } else {
      recordFailure(ctx, target, {
        transactionId: transactionId ?? '',
        hResult: inner['hResult'] as number,
        errorDescription: (str(inner, 'errorDescription') ?? '').slice(0, 255),
      });
    }
    return scepResult(ctx, 'Success');
  } catch (err) {
    if (err instanceof ChallengeValidationError) return scepResult(ctx, err.code, err.description);
    throw err;
  }
}
