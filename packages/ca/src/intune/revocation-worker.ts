import { CA_REQUEST_ERROR_CODES } from '@scepkit/intune';
import type { CaRequestErrorCode, RevocationRequest, RevocationResult } from '@scepkit/intune';
import type { AuthorityLogger } from '../enroll/types.js';
import type { CertificateStore, RevocationReason, RevokeResult } from '../store/types.js';
import { describeIntuneError } from './describe-error.js';
import { schedule } from './outbox-worker.js';

/** The part of `IntuneRevocationClient` the worker uses. */
export interface RevocationClientLike {
  downloadRevocationRequests(args: {
    maxRequests: number;
    issuerName?: string | null;
  }): Promise<{ requests: RevocationRequest[] }>;
  uploadRevocationResults(results: readonly RevocationResult[]): Promise<unknown>;
}

export interface IntuneRevocationWorkerOptions {
  client: RevocationClientLike;
  store: Pick<CertificateStore, 'getCertificate' | 'getIntuneRevocation' | 'recordIntuneRevocation'>;
  /** Revokes and re-publishes the CRL: `Authority.revoke`. */
  revoke(
    serial: string,
    reason: RevocationReason,
    actor: string,
    details?: Record<string, unknown>,
  ): Promise<RevokeResult>;
  /** Our CA's subject as sent in success notifications (`issuingCertificateAuthority`). */
  issuerName: string;
  /** RFC 5280 reason recorded for Intune revocations (default 0, unspecified). */
  reason?: RevocationReason;
  /** Poll interval of `start()` (default 5 min). */
  intervalMs?: number;
  /** Requests per download, 1..500 (default 100). */
  maxRequests?: number;
  clock?: () => Date;
  logger?: AuthorityLogger;
}

export interface RevocationRunResult {
  downloaded: number;
  /** Results uploaded (requests of other CAs are left alone). */
  results: RevocationResult[];
}

const C = CA_REQUEST_ERROR_CODES;

/**
 * Applies Intune's revocation requests (PkiConnectorFEService): downloads them, revokes what this CA issued (same
 * serial and issuer), and uploads a result per request: 0 revoked, 4004 not found, 4005 already revoked, 4100 on
 * our own failure (Intune asks again). Request contexts are recorded in the store, so a request downloaded
 * again (by this node after a failed upload, or by another node) is answered without revoking twice.
 *
 * @example
 * const worker = new IntuneRevocationWorker({ client, store, revoke: (...a) => authority.revoke(...a), issuerName });
 * const stop = worker.start();
 */
export class IntuneRevocationWorker {
  readonly #o: IntuneRevocationWorkerOptions;
  readonly #clock: () => Date;
  #running: Promise<RevocationRunResult> | null = null;

  constructor(options: IntuneRevocationWorkerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** One poll: download, apply, upload. Concurrent calls share the poll in flight. */
  runOnce(): Promise<RevocationRunResult> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #run(): Promise<RevocationRunResult> {
    const { requests } = await this.#o.client.downloadRevocationRequests({
      maxRequests: this.#o.maxRequests ?? 100,
      issuerName: null,
    });
    const results: RevocationResult[] = [];
    for (const r of requests) {
      if (r.issuerName !== null && !sameName(r.issuerName, this.#o.issuerName)) continue; // another CA's
      results.push(await this.#apply(r));
    }
    if (results.length > 0) await this.#o.client.uploadRevocationResults(results);
    return { downloaded: requests.length, results };
  }

  async #apply(r: RevocationRequest): Promise<RevocationResult> {
    const { store } = this.#o;
    const done = await store.getIntuneRevocation(r.requestContext);
    if (done) return resultFor(r.requestContext, Number(done.result) as CaRequestErrorCode);
    const serial = normalizeSerial(r.serialNumber);
    let code: CaRequestErrorCode;
    try {
      const cert = serial ? await store.getCertificate(serial) : null;
      if (!cert) code = C.CertificateNotFoundError;
      else if (cert.status === 'revoked') code = C.ConflictError;
      else {
        const outcome = await this.#o.revoke(serial, this.#o.reason ?? 0, 'intune', {
          requestContext: r.requestContext,
        });
        code =
          outcome === 'revoked'
            ? C.None
            : outcome === 'already-revoked'
              ? C.ConflictError
              : C.CertificateNotFoundError;
      }
      await store.recordIntuneRevocation({
        requestContext: r.requestContext,
        serial: serial || null,
        result: String(code),
        processedAt: this.#clock(),
      });
    } catch (err) {
      this.#o.logger?.warn('Intune revocation request failed', {
        serial,
        err: err instanceof Error ? err.message : String(err),
      });
      return resultFor(r.requestContext, C.RetryableServiceException, 'the CA could not revoke now');
    }
    return resultFor(r.requestContext, code);
  }

  /** Runs `runOnce` every `intervalMs` until the returned function is called. */
  start(): () => Promise<void> {
    return schedule(
      () => this.runOnce(),
      this.#o.intervalMs ?? 300_000,
      (err) => this.#o.logger?.warn('Intune revocation poll failed', { err: describeIntuneError(err) }),
    );
  }
}

const MESSAGES: Partial<Record<CaRequestErrorCode, string>> = {
  [C.CertificateNotFoundError]: 'no certificate with this serial number was issued by this CA',
  [C.ConflictError]: 'the certificate is already revoked',
};

function resultFor(requestContext: string, code: CaRequestErrorCode, message?: string): RevocationResult {
  if (code === C.None) return { requestContext, succeeded: true, errorCode: code };
  const errorMessage = message ?? MESSAGES[code];
  return { requestContext, succeeded: false, errorCode: code, ...(errorMessage ? { errorMessage } : {}) };
}

/** `0A:1B`, `0a1b`, `A1B` -> `a1b` (lowercase hex without leading zeros, as the store keeps serials). */
export function normalizeSerial(s: string): string {
  const hex = s.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return '';
  return hex.replace(/^0+(?=.)/, '');
}

/** Distinguished names compared without case and spacing around separators. */
function sameName(a: string, b: string): boolean {
  const norm = (s: string) =>
    s
      .replace(/\s*([,=+])\s*/g, '$1')
      .trim()
      .toLowerCase();
  return norm(a) === norm(b);
}
