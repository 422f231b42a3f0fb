import type { IntuneClientOptions } from './config.js';
import { SCEP_VALIDATION_SERVICE } from './discovery.js';
import { parseScepErrorCode } from './error-codes.js';
import { IntuneArgumentError, IntuneProtocolError, IntuneServiceError } from './errors.js';
import { IntuneClient, type ServiceAnswer } from './intune-client.js';

/** Arguments of `sendSuccessNotification`. */
export interface SuccessNotification {
  transactionId: string;
  /** Base64 DER PKCS#10, as passed to `validateRequest`. */
  csr: string;
  /** SHA-1 thumbprint (hex) of the issued certificate. */
  thumbprint: string;
  serialNumber: string;
  /** ISO 8601 UTC, e.g. `2026-11-27T03:00:00.000Z`. A `Date` is converted. */
  expiration: string | Date;
  issuingCertificateAuthority: string;
  caConfiguration?: string | null;
  certificateAuthority?: string | null;
}

/** Arguments of `sendFailureNotification`. */
export interface FailureNotification {
  transactionId: string;
  csr: string;
  /**
   * Win32/HRESULT (MS-ERREF) shown in the Intune console. Sent as a signed 32-bit integer, as Microsoft's Java
   * library does: `0x8000ffff` (2147549183) is sent as -2147418113.
   */
  hResult: number;
  /** At most 255 characters. */
  errorDescription: string;
}

/** A successful ScepActions call. */
export interface ScepActionResult {
  activityId: string;
}

/**
 * Intune SCEP challenge validation (`ScepRequestValidationFEService`, api-version 2018-02-20 by default).
 * Every method resolves only when Intune answered `code: "Success"`; otherwise it throws, and the CA must not
 * issue (or deliver) the certificate.
 *
 * @example
 * const validator = new IntuneScepValidator(client);
 * await validator.validateRequest(transactionId, csrBase64); // throws IntuneServiceError on e.g. ChallengeExpired
 */
export class IntuneScepValidator {
  readonly client: IntuneClient;

  constructor(client: IntuneClient | IntuneClientOptions) {
    this.client = client instanceof IntuneClient ? client : new IntuneClient(client);
  }

  /** `POST ScepActions/validateRequest`: Intune checks the challenge and the CSR against its profile. */
  async validateRequest(transactionId: string, csrBase64: string): Promise<ScepActionResult> {
    required({ transactionId, csr: csrBase64 });
    return this.call('validateRequest', transactionId, {
      request: {
        transactionId,
        certificateRequest: csrBase64,
        callerInfo: this.client.config.providerNameAndVersion,
      },
    });
  }

  /** `POST ScepActions/successNotification`: after issuing, before returning the certificate. */
  async sendSuccessNotification(n: SuccessNotification): Promise<ScepActionResult> {
    required({
      transactionId: n.transactionId,
      csr: n.csr,
      thumbprint: n.thumbprint,
      serialNumber: n.serialNumber,
      issuingCertificateAuthority: n.issuingCertificateAuthority,
    });
    if (!/^[0-9a-fA-F]{40}$/.test(n.thumbprint)) {
      throw new IntuneArgumentError('thumbprint', 'must be the SHA-1 thumbprint as 40 hex digits');
    }
    const expiresAt =
      n.expiration instanceof Date ? n.expiration.getTime() : Date.parse(String(n.expiration));
    if (Number.isNaN(expiresAt)) throw new IntuneArgumentError('expiration', 'required, an ISO 8601 date');
    // Always UTC with a `Z`, whatever offset the caller used.
    const expiration = new Date(expiresAt).toISOString();
    return this.call('successNotification', n.transactionId, {
      notification: {
        transactionId: n.transactionId,
        certificateRequest: n.csr,
        certificateThumbprint: n.thumbprint,
        certificateSerialNumber: n.serialNumber,
        certificateExpirationDateUtc: expiration,
        issuingCertificateAuthority: n.issuingCertificateAuthority,
        callerInfo: this.client.config.providerNameAndVersion,
        caConfiguration: n.caConfiguration ?? null,
        certificateAuthority: n.certificateAuthority ?? null,
      },
    });
  }

  /** `POST ScepActions/failureNotification`: the CA failed an Intune-challenge request (then do not issue). */
  async sendFailureNotification(n: FailureNotification): Promise<ScepActionResult> {
    required({ transactionId: n.transactionId, csr: n.csr, errorDescription: n.errorDescription });
    if (!Number.isInteger(n.hResult) || n.hResult < -(2 ** 31) || n.hResult >= 2 ** 32) {
      throw new IntuneArgumentError('hResult', 'required, a 32-bit integer');
    }
    if (n.errorDescription.length > 255) {
      throw new IntuneArgumentError(
        'errorDescription',
        `at most 255 characters, got ${n.errorDescription.length}`,
      );
    }
    return this.call('failureNotification', n.transactionId, {
      notification: {
        transactionId: n.transactionId,
        certificateRequest: n.csr,
        hResult: n.hResult | 0,
        errorDescription: n.errorDescription,
        callerInfo: this.client.config.providerNameAndVersion,
      },
    });
  }

  private async call(op: string, transactionId: string, body: unknown): Promise<ScepActionResult> {
    const answer = await this.client.post({
      service: SCEP_VALIDATION_SERVICE,
      path: `ScepActions/${op}`,
      apiVersion: this.client.config.scepServiceVersion,
      body,
      op,
      transactionId,
    });
    const { code, errorDescription } = readResult(answer);
    const logger = this.client.config.logger;
    if (code === 'Success') {
      logger.info({ activityId: answer.activityId, op, transactionId, code }, `intune ${op} succeeded`);
      return { activityId: answer.activityId };
    }
    logger.warn({ activityId: answer.activityId, op, transactionId, code }, `intune ${op} rejected`);
    throw new IntuneServiceError({
      code: parseScepErrorCode(code),
      rawCode: code,
      description: errorDescription,
      transactionId,
      activityId: answer.activityId,
    });
  }
}

function readResult(answer: ServiceAnswer): { code: string; errorDescription: string } {
  const json = answer.json as Record<string, unknown> | null;
  const code = typeof json === 'object' && json !== null ? json['code'] : undefined;
  if (typeof code !== 'string') {
    throw new IntuneProtocolError({
      message: 'Intune answer has no string "code"',
      url: answer.url,
      activityId: answer.activityId,
      body: answer.text,
    });
  }
  const description = (json as Record<string, unknown>)['errorDescription'];
  return { code, errorDescription: typeof description === 'string' ? description : '' };
}

function required(values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== 'string' || value === '') throw new IntuneArgumentError(key, 'required');
  }
}
