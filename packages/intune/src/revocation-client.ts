import type { IntuneClientOptions } from './config.js';
import { PKI_CONNECTOR_SERVICE } from './discovery.js';
import { CA_REQUEST_ERROR_CODES, type CaRequestErrorCode } from './error-codes.js';
import { IntuneArgumentError, IntuneProtocolError } from './errors.js';
import { IntuneClient, type ServiceAnswer } from './intune-client.js';

/** Largest `maxRequests` Intune accepts (MAXREQUESTS_MAXVALUE). */
export const MAX_REVOCATION_REQUESTS = 500;

/** A certificate Intune asks the CA to revoke. */
export interface RevocationRequest {
  /** Opaque; echo it in the matching `RevocationResult`. */
  requestContext: string;
  serialNumber: string;
  issuerName: string | null;
  caConfiguration: string | null;
}

/** The CA's answer to one `RevocationRequest`. */
export interface RevocationResult {
  requestContext: string;
  succeeded: boolean;
  /** 0 when succeeded; else 4000-4007 (do not retry) or 4100-4103 (Intune may retry). */
  errorCode: CaRequestErrorCode;
  errorMessage?: string;
}

/**
 * Intune revocation requests (`PkiConnectorFEService`, api-version 5019-05-05 by default).
 *
 * @example
 * const revocation = new IntuneRevocationClient(client);
 * const requests = await revocation.downloadRevocationRequests({ maxRequests: 100 });
 * await revocation.uploadRevocationResults(requests.map((r) => ({ requestContext: r.requestContext, succeeded: true, errorCode: 0 })));
 */
export class IntuneRevocationClient {
  readonly client: IntuneClient;

  constructor(client: IntuneClient | IntuneClientOptions) {
    this.client = client instanceof IntuneClient ? client : new IntuneClient(client);
  }

  /** `POST CertificateAuthorityRequests/downloadRevocationRequests`. */
  async downloadRevocationRequests(args: { maxRequests: number; issuerName?: string | null }): Promise<{
    activityId: string;
    requests: RevocationRequest[];
  }> {
    const { maxRequests } = args;
    if (!Number.isInteger(maxRequests) || maxRequests < 1 || maxRequests > MAX_REVOCATION_REQUESTS) {
      throw new IntuneArgumentError(
        'maxRequests',
        `must be an integer 1..${MAX_REVOCATION_REQUESTS}, got ${maxRequests}`,
      );
    }
    const answer = await this.post('downloadRevocationRequests', {
      downloadParameters: { maxRequests, issuerName: args.issuerName ?? null },
    });
    const value = field(answer.json, 'value');
    if (!Array.isArray(value)) throw invalid(answer, 'answer has no "value" array');
    const requests = value.map((item: unknown, i): RevocationRequest => {
      const requestContext = field(item, 'requestContext');
      const serialNumber = field(item, 'serialNumber');
      if (typeof requestContext !== 'string' || typeof serialNumber !== 'string') {
        throw invalid(answer, `value[${i}] lacks requestContext or serialNumber`);
      }
      return {
        requestContext,
        serialNumber,
        issuerName: stringOrNull(field(item, 'issuerName')),
        caConfiguration: stringOrNull(field(item, 'caConfiguration')),
      };
    });
    this.client.config.logger.info(
      { activityId: answer.activityId, op: 'downloadRevocationRequests', count: requests.length },
      'intune revocation requests downloaded',
    );
    return { activityId: answer.activityId, requests };
  }

  /** `POST CertificateAuthorityRequests/uploadRevocationResults`; Intune must answer `{"value": true}`. */
  async uploadRevocationResults(results: readonly RevocationResult[]): Promise<{ activityId: string }> {
    if (!Array.isArray(results) || results.length === 0) {
      throw new IntuneArgumentError('results', 'at least one result is required');
    }
    const known = Object.values(CA_REQUEST_ERROR_CODES) as number[];
    const wire = results.map((r, i) => {
      if (typeof r.requestContext !== 'string' || r.requestContext === '') {
        throw new IntuneArgumentError(`results[${i}].requestContext`, 'required');
      }
      if (!known.includes(r.errorCode)) {
        throw new IntuneArgumentError(
          `results[${i}].errorCode`,
          `not a CA request error code: ${r.errorCode}`,
        );
      }
      if (r.succeeded !== (r.errorCode === 0)) {
        throw new IntuneArgumentError(`results[${i}].errorCode`, 'must be 0 exactly when succeeded is true');
      }
      // Java/Gson shape: errorCode as a numeric string, errorMessage omitted when absent.
      return {
        requestContext: r.requestContext,
        succeeded: r.succeeded,
        errorCode: String(r.errorCode),
        ...(r.errorMessage !== undefined ? { errorMessage: r.errorMessage } : {}),
      };
    });
    const answer = await this.post('uploadRevocationResults', { results: wire });
    const value = field(answer.json, 'value');
    if (value !== true && value !== 'true') {
      throw invalid(answer, `upload not acknowledged: "value" is ${JSON.stringify(value) ?? 'missing'}`);
    }
    this.client.config.logger.info(
      { activityId: answer.activityId, op: 'uploadRevocationResults', count: wire.length },
      'intune revocation results uploaded',
    );
    return { activityId: answer.activityId };
  }

  private post(op: string, body: unknown): Promise<ServiceAnswer> {
    return this.client.post({
      service: PKI_CONNECTOR_SERVICE,
      path: `CertificateAuthorityRequests/${op}`,
      apiVersion: this.client.config.pkiServiceVersion,
      body,
      op,
    });
  }
}

/** Reads a property case-insensitively (the C# library matches JSON names that way). */
function field(obj: unknown, name: string): unknown {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const record = obj as Record<string, unknown>;
  if (name in record) return record[name];
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : record[key];
}

const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function invalid(answer: ServiceAnswer, message: string): IntuneProtocolError {
  return new IntuneProtocolError({
    message,
    url: answer.url,
    activityId: answer.activityId,
    body: answer.text,
  });
}
