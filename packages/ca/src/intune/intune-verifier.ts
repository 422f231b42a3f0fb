import type { FailureNotification, ScepActionResult, SuccessNotification } from '@scepkit/intune';
import type {
  ChallengeRequest,
  ChallengeResult,
  ChallengeVerifier,
  IssuedCertificateInfo,
} from '../challenge/types.js';
import type { AuthorityLogger } from '../enroll/types.js';
import type { CertificateStore } from '../store/types.js';
import { describeIntuneError, isFinalIntuneAnswer } from './describe-error.js';
import { INTUNE_HRESULTS, MAX_ERROR_DESCRIPTION } from './hresult.js';

/** The part of `IntuneScepValidator` the verifier uses (a fake in unit tests). */
export interface IntuneValidatorLike {
  validateRequest(transactionId: string, csrBase64: string): Promise<ScepActionResult>;
  sendSuccessNotification(n: SuccessNotification): Promise<ScepActionResult>;
  sendFailureNotification(n: FailureNotification): Promise<ScepActionResult>;
}

/** Outbox item kind of an undelivered failure notification (payload: `FailureOutboxPayload`). */
export const OUTBOX_KIND_FAILURE = 'intune-failure';

export interface FailureOutboxPayload {
  transactionId: string;
  profile: string;
  /** Base64 DER of the CSR, as Intune takes it. */
  csr: string;
  hResult: number;
  errorDescription: string;
}

export interface IntuneChallengeVerifierOptions {
  validator: IntuneValidatorLike;
  store: Pick<CertificateStore, 'markTransactionNotified' | 'enqueueOutbox'>;
  /** Sent as `caConfiguration` in success notifications (Intune hands it back in revocation requests). */
  caConfiguration?: string | null;
  /** Sent as `certificateAuthority` in success notifications. */
  certificateAuthority?: string | null;
  logger?: AuthorityLogger;
}

const NOOP: AuthorityLogger = { warn: () => {} };

/**
 * Intune's challenge verifier (docs/intune-api.md §2): `validateRequest` must answer `Success` or nothing is
 * issued (fail closed on any code, HTTP error, timeout or token failure); the success notification is sent after
 * the certificate is stored and before it is returned (if it fails the Authority revokes and withholds it); a
 * refusal after validation is reported with a failure notification, queued in the durable outbox when Intune
 * cannot be reached (`IntuneOutboxWorker` delivers it).
 *
 * @example
 * const verifier = new IntuneChallengeVerifier({ validator: new IntuneScepValidator(client), store });
 */
export class IntuneChallengeVerifier implements ChallengeVerifier {
  readonly #o: IntuneChallengeVerifierOptions;
  readonly #log: AuthorityLogger;
  /** Requests that Intune validated in this process (the Authority passes the same object to every hook). */
  readonly #validated = new WeakSet<ChallengeRequest>();

  constructor(options: IntuneChallengeVerifierOptions) {
    this.#o = options;
    this.#log = options.logger ?? NOOP;
  }

  async verify(request: ChallengeRequest): Promise<ChallengeResult> {
    if (request.challengePassword === null) {
      return { ok: false, reason: 'Intune: ChallengePasswordMissing (no challengePassword in the CSR)' };
    }
    try {
      await this.#o.validator.validateRequest(request.transactionId, base64(request.csrDer));
    } catch (err) {
      const reason = describeIntuneError(err);
      this.#log.warn('Intune validation refused or failed', { transactionId: request.transactionId, reason });
      return { ok: false, reason };
    }
    this.#validated.add(request);
    return { ok: true, validatedByIntune: true };
  }

  async onIssued(request: ChallengeRequest, cert: IssuedCertificateInfo): Promise<void> {
    // A RenewalReq is not validated by Intune (its transaction is unknown there): nothing to notify.
    if (!this.#validated.has(request)) return;
    await this.#o.validator.sendSuccessNotification({
      transactionId: request.transactionId,
      csr: base64(request.csrDer),
      thumbprint: cert.thumbprint,
      serialNumber: cert.serial,
      expiration: cert.notAfter,
      issuingCertificateAuthority: cert.issuer,
      caConfiguration: this.#o.caConfiguration ?? null,
      certificateAuthority: this.#o.certificateAuthority ?? null,
    });
    await this.#markNotified(request);
  }

  async onFailed(request: ChallengeRequest, hResult: number, description: string): Promise<void> {
    if (!this.#validated.has(request)) return;
    const payload: FailureOutboxPayload = {
      transactionId: request.transactionId,
      profile: request.profile,
      csr: base64(request.csrDer),
      hResult: description.startsWith('certificate authority error') ? INTUNE_HRESULTS.caError : hResult,
      errorDescription: description.slice(0, MAX_ERROR_DESCRIPTION) || 'refused by the certificate authority',
    };
    try {
      await this.#o.validator.sendFailureNotification(failureNotification(payload));
      await this.#markNotified(request);
    } catch (err) {
      if (isFinalIntuneAnswer(err)) {
        // Intune answered with a code: it received the notification; retrying would not change the answer.
        this.#log.warn('Intune refused the failure notification', {
          transactionId: request.transactionId,
          reason: describeIntuneError(err),
        });
        return;
      }
      await this.#o.store.enqueueOutbox({
        kind: OUTBOX_KIND_FAILURE,
        payload: { ...payload },
        dedupeKey: `${OUTBOX_KIND_FAILURE}:${request.profile}:${request.transactionId}`,
      });
      this.#log.warn('Intune failure notification queued for retry', {
        transactionId: request.transactionId,
        reason: describeIntuneError(err),
      });
    }
  }

  async #markNotified(request: ChallengeRequest): Promise<void> {
    try {
      await this.#o.store.markTransactionNotified({
        transactionId: request.transactionId,
        profile: request.profile,
      });
    } catch (err) {
      // Bookkeeping only: the notification itself was delivered.
      this.#log.warn('could not mark the transaction notified', {
        transactionId: request.transactionId,
        err: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

export function failureNotification(p: FailureOutboxPayload): FailureNotification {
  return {
    transactionId: p.transactionId,
    csr: p.csr,
    hResult: p.hResult,
    errorDescription: p.errorDescription,
  };
}

function base64(der: Uint8Array): string {
  return Buffer.from(der).toString('base64');
}
