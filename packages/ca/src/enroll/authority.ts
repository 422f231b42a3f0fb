import { createHash, randomBytes as nodeRandomBytes } from 'node:crypto';
import type { ChallengeRequest, ChallengeVerifier, IssuedCertificateInfo } from '../challenge/types.js';
import { signWithCa } from '../certs/issue.js';
import { EnrollmentError, PolicyError, type FailInfo } from '../errors.js';
import type { CaIdentity } from '../init/ca-identity.js';
import { nameToString } from '../init/names.js';
import { applyPolicy, type IssuanceDecision } from '../policy/apply-policy.js';
import { parseCsr, type ParsedCsr } from '../policy/csr.js';
import { resolveProfile, type IssuanceProfile } from '../policy/profile.js';
import type { CrlPublisher } from '../revocation/crl.js';
import { generateSerial, type RandomBytes } from '../serial.js';
import {
  DuplicateSerialError,
  TransactionStateError,
  type AuditEventInput,
  type CertificateRecord,
  type CertificateStore,
  type RevocationReason,
  type RevokeResult,
  type TransactionKey,
  type TransactionRecord,
} from '../store/index.js';
import { checkRenewal } from './renewal.js';
import type { AuthorityLogger, EnrollRequest, EnrollResult, ProfileConfig } from './types.js';

/** HRESULT E_FAIL, reported to `onFailed` hooks when the CA refuses a request that passed the challenge. */
export const HRESULT_E_FAIL = -2147467259;
const MAX_SERIAL_ATTEMPTS = 5;
const ACTOR = 'scep';

export interface AuthorityOptions {
  ca: CaIdentity;
  store: CertificateStore;
  /** Profiles by name (the SCEP endpoint). */
  profiles: Record<string, ProfileConfig>;
  /** Re-published after every revocation when given. */
  crl?: CrlPublisher;
  clock?: () => Date;
  randomBytes?: RandomBytes;
  logger?: AuthorityLogger;
}

interface ResolvedProfile {
  name: string;
  verifier: ChallengeVerifier;
  policy: IssuanceProfile;
}

/** The transaction state the issuance continues from. */
interface Attempt {
  req: EnrollRequest;
  profile: ResolvedProfile;
  csr: ParsedCsr;
  challenge: ChallengeRequest;
  key: TransactionKey;
  /** Issue against the stored transaction (pending/approved) or out of band (retry of a final one). */
  bindTransaction: boolean;
  /** This request created the transaction record (false: a retry, or a concurrent duplicate). */
  created: boolean;
}

/**
 * The enrollment flow: idempotent by transactionID, challenge or renewal authentication, policy, signing,
 * persistence (certificate + transaction state, one store transaction) before returning, audit of every decision.
 *
 * @example
 * const authority = new Authority({ ca, store, profiles: { intune: { verifier: new StaticChallengeVerifier({ password }) } } });
 * const result = await authority.enroll({ messageType: 'PKCSReq', transactionId, csrDer, signerCertDer, profile: 'intune' });
 */
export class Authority {
  readonly ca: CaIdentity;
  readonly #store: CertificateStore;
  readonly #profiles: Map<string, ResolvedProfile>;
  readonly #crl: CrlPublisher | undefined;
  readonly #clock: () => Date;
  readonly #random: RandomBytes;
  readonly #log: AuthorityLogger;
  readonly #issuerText: string;

  constructor(options: AuthorityOptions) {
    this.ca = options.ca;
    this.#store = options.store;
    this.#profiles = new Map(
      Object.entries(options.profiles).map(([name, p]) => [
        name,
        { name, verifier: p.verifier, policy: resolveProfile(p.policy) },
      ]),
    );
    this.#crl = options.crl;
    this.#clock = options.clock ?? (() => new Date());
    this.#random = options.randomBytes ?? nodeRandomBytes;
    this.#log = options.logger ?? { warn: () => {} };
    this.#issuerText = nameToString(options.ca.subjectDer);
  }

  /**
   * Handle a PKCSReq, RenewalReq or CertPoll.
   * @throws EnrollmentError (failInfo + public text; the private reason is its message and cause)
   */
  async enroll(req: EnrollRequest): Promise<EnrollResult> {
    const profile = this.#profiles.get(req.profile);
    if (!profile) {
      throw await this.#refuse(req, 'badRequest', `unknown profile ${req.profile}`);
    }
    if (req.messageType === 'CertPoll') return this.#poll(req, profile);
    if (!req.csrDer) throw await this.#refuse(req, 'badRequest', 'no CSR in the request');
    let csr: ParsedCsr;
    try {
      csr = parseCsr(req.csrDer);
    } catch (err) {
      throw await this.#refuse(req, failInfoOf(err), reasonOf(err), err);
    }
    const key: TransactionKey = { transactionId: req.transactionId, profile: profile.name };
    const requestHash = sha256Hex(csr.spki);
    const { transaction, created } = await this.#store.beginTransaction({
      ...key,
      requestHash,
      csr: profile.policy.manualApproval ? req.csrDer : null,
    });
    const challenge = challengeRequest(req, csr);
    const attempt: Attempt = { req, profile, csr, challenge, key, bindTransaction: true, created };
    if (!created) {
      if (transaction.requestHash !== requestHash) {
        throw await this.#refuse(req, 'badRequest', 'transactionID reused with a different public key');
      }
      const replay = await this.#replay(attempt, transaction);
      if (replay) return replay;
    }
    return this.#process(attempt);
  }

  /** An existing transaction with the same key: return its outcome, or decide how to continue. */
  async #replay(attempt: Attempt, tx: TransactionRecord): Promise<EnrollResult | null> {
    const { req } = attempt;
    if (req.messageType === 'RenewalReq' && req.signerCertDer) {
      // micromdm's scepclient derives the transactionID from its key and keeps the key when it renews, so its
      // RenewalReq reuses the transactionID of the PKCSReq. Signed by the newest certificate of this transaction,
      // it is a new renewal of that certificate, not a retry: issue out of band. A retry of that renewal is
      // still signed by the older certificate, and gets the newest one back.
      const latest = await this.#latestOutOfBand(attempt.key);
      if (latest && Buffer.from(latest.der).equals(Buffer.from(req.signerCertDer))) {
        attempt.bindTransaction = false;
        return null;
      }
      if (latest) return this.#replayed(req, latest);
    }
    switch (tx.state) {
      case 'issued': {
        const cert = tx.serial ? await this.#store.getCertificate(tx.serial) : null;
        if (cert && cert.status === 'valid') return this.#replayed(req, cert);
        break; // revoked (e.g. a failed onIssued hook): issue again, out of band
      }
      case 'pending':
        if (attempt.profile.policy.manualApproval) return { status: 'PENDING' };
        return null; // an interrupted attempt: process it again
      case 'approved':
        return this.#issueApproved(attempt.profile, tx);
      case 'rejected':
        throw await this.#refuse(req, 'badRequest', 'the transaction was rejected by an administrator');
      case 'failed':
        break;
    }
    // A retry of a final transaction (same transactionID and key): micromdm's client derives the transactionID
    // from the key, so a device retrying after a wrong challenge reuses it. Issue out of band, unless that
    // already happened (then return that certificate).
    const previous = await this.#latestOutOfBand(attempt.key);
    if (previous) return this.#replayed(req, previous);
    if (attempt.profile.policy.manualApproval) {
      throw await this.#refuse(req, 'badRequest', `transaction already ${tx.state}; use a new transactionID`);
    }
    attempt.bindTransaction = false;
    return null;
  }

  async #process(attempt: Attempt): Promise<EnrollResult> {
    const { req, profile, csr } = attempt;
    let validatedByIntune = false;
    let deviceId: string | undefined;
    let verified = false;
    try {
      if (req.messageType === 'RenewalReq') {
        await checkRenewal(this.#store, {
          req,
          csr,
          profile: profile.name,
          now: this.#clock(),
          allowKeyReuse: profile.policy.renewalKeyReuse === 'allow',
        });
      } else {
        const result = await profile.verifier.verify(attempt.challenge);
        if (!result.ok) throw new EnrollmentError('badRequest', `challenge refused: ${result.reason}`);
        validatedByIntune = result.validatedByIntune === true;
        deviceId = result.deviceId;
        verified = true;
      }
      const decision = applyPolicy({
        csr,
        profile: profile.policy,
        ca: this.ca,
        now: this.#clock(),
        validatedByIntune,
      });
      if (profile.policy.manualApproval && req.messageType === 'PKCSReq') {
        await this.#store.appendAudit(this.#audit(req, 'pending', { subject: decision.subjectText }));
        return { status: 'PENDING' };
      }
      return await this.#issue(attempt, decision, { validatedByIntune, ...(deviceId ? { deviceId } : {}) });
    } catch (err) {
      if (attempt.bindTransaction && (err instanceof TransactionStateError || !attempt.created)) {
        // A concurrent identical request issued first (e.g. it consumed the one-time challenge this one then
        // found used): answer with its certificate.
        const tx = await this.#store.getTransaction(attempt.key);
        const cert = tx?.state === 'issued' && tx.serial ? await this.#store.getCertificate(tx.serial) : null;
        if (cert && cert.status === 'valid') return this.#replayed(req, cert);
      }
      if (err instanceof HookError) throw err.enrollmentError;
      if (!isRefusal(err)) {
        // Our own fault (store, signer, verifier outage): no refusal is recorded on the transaction, so the client
        // can retry; the caller answers with a server error.
        if (verified)
          await this.#safeOnFailed(profile.verifier, attempt.challenge, 'certificate authority error');
        await this.#auditError(req, err);
        throw err;
      }
      const failInfo = failInfoOf(err);
      const reason = reasonOf(err);
      // Only the request that created the transaction records its failure: a duplicate still in flight must
      // not fail the original.
      if (attempt.bindTransaction && attempt.created)
        await this.#failTransaction(attempt.key, failInfo, reason);
      if (verified) await this.#safeOnFailed(profile.verifier, attempt.challenge, reason);
      throw await this.#refuse(req, failInfo, reason, err);
    }
  }

  async #issue(
    attempt: Attempt,
    decision: IssuanceDecision,
    flags: { validatedByIntune: boolean; approved?: boolean; deviceId?: string },
  ): Promise<EnrollResult> {
    const { req, profile } = attempt;
    let record: CertificateRecord | null = null;
    for (let i = 0; i < MAX_SERIAL_ATTEMPTS && record === null; i++) {
      const serial = generateSerial(this.#random);
      const der = await signWithCa(this.ca, { serial: serial.bytes, ...decision });
      req.onSigned?.(der, this.ca.chain);
      try {
        record = await this.#store.issue({
          certificate: {
            serial: serial.hex,
            der,
            subject: decision.subjectText,
            sans: decision.sans,
            notBefore: truncate(decision.notBefore),
            notAfter: truncate(decision.notAfter),
            profile: profile.name,
            transactionId: req.transactionId,
            deviceId: flags.deviceId ?? null,
          },
          ...(attempt.bindTransaction ? { transaction: attempt.key } : {}),
          audit: this.#audit(req, 'issue', {
            serial: serial.hex,
            subject: decision.subjectText,
            details: {
              validatedByIntune: flags.validatedByIntune,
              outOfBand: !attempt.bindTransaction,
              ...(flags.approved ? { approved: true } : {}),
            },
          }),
        });
      } catch (err) {
        if (!(err instanceof DuplicateSerialError)) throw err;
        this.#log.warn('duplicate serial, retrying', { serial: serial.hex });
      }
    }
    if (record === null) throw new EnrollmentError('badRequest', 'no unique serial after retries');
    if (profile.verifier.onIssued) {
      try {
        await profile.verifier.onIssued(attempt.challenge, this.#info(record));
      } catch (err) {
        // The certificate must not be delivered (Intune: success notification failed): revoke it; the client may
        // retry the transaction later.
        await this.revoke(record.serial, 5, 'system', { cause: 'onIssued hook failed' });
        throw new HookError(
          new EnrollmentError('badRequest', 'the post-issuance hook failed; certificate revoked', {
            cause: err,
          }),
        );
      }
    }
    return { status: 'SUCCESS', certificateDer: record.der, chain: this.ca.chain, serial: record.serial };
  }

  /** GetCertInitial: PENDING while waiting, the certificate once issued (or approved), FAILURE when final. */
  async #poll(req: EnrollRequest, profile: ResolvedProfile): Promise<EnrollResult> {
    const tx = await this.#store.getTransaction({ transactionId: req.transactionId, profile: profile.name });
    if (!tx) throw await this.#refuse(req, 'badCertId', 'no such transaction');
    switch (tx.state) {
      case 'pending':
        return { status: 'PENDING' };
      case 'approved':
        return this.#issueApproved(profile, tx);
      case 'issued': {
        const cert = tx.serial ? await this.#store.getCertificate(tx.serial) : null;
        if (cert && cert.status === 'valid') return this.#replayed(req, cert);
        throw await this.#refuse(req, 'badCertId', 'the issued certificate is no longer valid');
      }
      default:
        throw await this.#refuse(req, tx.failInfo ?? 'badRequest', `transaction ${tx.state}`);
    }
  }

  /**
   * Issue an approved request from its stored CSR. The policy (including the SID rule, which needed the
   * verifier's answer) was already applied when the request was received, so SIDs pass here.
   */
  async #issueApproved(profile: ResolvedProfile, tx: TransactionRecord): Promise<EnrollResult> {
    const req: EnrollRequest = {
      messageType: 'PKCSReq',
      transactionId: tx.transactionId,
      profile: profile.name,
    };
    if (!tx.csr) throw await this.#refuse(req, 'badRequest', 'approved transaction without a stored CSR');
    const csr = parseCsr(tx.csr);
    const attempt: Attempt = {
      req: { ...req, csrDer: tx.csr },
      profile,
      csr,
      challenge: challengeRequest({ ...req, csrDer: tx.csr }, csr),
      key: { transactionId: tx.transactionId, profile: tx.profile },
      bindTransaction: true,
      created: false,
    };
    try {
      const decision = applyPolicy({
        csr,
        profile: profile.policy,
        ca: this.ca,
        now: this.#clock(),
        validatedByIntune: true,
      });
      return await this.#issue(attempt, decision, { validatedByIntune: false, approved: true });
    } catch (err) {
      if (err instanceof HookError) throw err.enrollmentError;
      if (!isRefusal(err)) {
        await this.#auditError(req, err);
        throw err;
      }
      await this.#failTransaction(attempt.key, failInfoOf(err), reasonOf(err));
      throw await this.#refuse(req, failInfoOf(err), reasonOf(err), err);
    }
  }

  /** Admin: approve a pending request; the certificate is issued on the client's next poll. */
  async approve(key: TransactionKey, actor: string): Promise<TransactionRecord> {
    return this.#store.updateTransaction(
      key,
      { state: 'approved' },
      {
        actor: `admin:${actor}`,
        action: 'approve',
        transactionId: key.transactionId,
        details: { profile: key.profile },
      },
    );
  }

  /** Admin: reject a pending request; the client's next poll gets FAILURE badRequest. */
  async reject(
    key: TransactionKey,
    actor: string,
    reason = 'rejected by an administrator',
  ): Promise<TransactionRecord> {
    return this.#store.updateTransaction(
      key,
      { state: 'rejected', failInfo: 'badRequest', reason },
      {
        actor: `admin:${actor}`,
        action: 'reject',
        transactionId: key.transactionId,
        details: { profile: key.profile, reason },
      },
    );
  }

  /** Revoke by serial (RFC 5280 reason code), audit it, and re-publish the CRL when a publisher is configured. */
  async revoke(
    serial: string,
    reason: RevocationReason,
    actor: string,
    details: Record<string, unknown> = {},
  ): Promise<RevokeResult> {
    const result = await this.#store.revoke(serial, reason, this.#clock(), {
      actor: actor === 'system' || actor === 'scep' || actor === 'intune' ? actor : `admin:${actor}`,
      action: 'revoke',
      serial,
      details: { reason, ...details },
    });
    if (result === 'revoked' && this.#crl) {
      try {
        await this.#crl.publish();
      } catch (err) {
        this.#log.warn('CRL publication after revocation failed', { serial, err: reasonOf(err) });
      }
    }
    return result;
  }

  async #replayed(req: EnrollRequest, cert: CertificateRecord): Promise<EnrollResult> {
    await this.#store.appendAudit(this.#audit(req, 'replay', { serial: cert.serial, subject: cert.subject }));
    return { status: 'SUCCESS', certificateDer: cert.der, chain: this.ca.chain, serial: cert.serial };
  }

  /** A valid certificate already issued for this transaction (out of band, after a retry). */
  async #latestOutOfBand(key: TransactionKey): Promise<CertificateRecord | null> {
    const [cert] = await this.#store.searchCertificates({
      transactionId: key.transactionId,
      profile: key.profile,
      status: 'valid',
      limit: 1,
    });
    return cert ?? null;
  }

  async #failTransaction(key: TransactionKey, failInfo: FailInfo, reason: string): Promise<void> {
    try {
      await this.#store.updateTransaction(key, { state: 'failed', failInfo, reason });
    } catch {
      // already final (e.g. issued and then revoked by a failed hook): nothing to record on it
    }
  }

  async #auditError(req: EnrollRequest, err: unknown): Promise<void> {
    try {
      await this.#store.appendAudit(this.#audit(req, 'error', { details: { error: reasonOf(err) } }));
    } catch {
      // the store may be what failed
    }
  }

  async #safeOnFailed(
    verifier: ChallengeVerifier,
    challenge: ChallengeRequest,
    reason: string,
  ): Promise<void> {
    try {
      await verifier.onFailed?.(challenge, HRESULT_E_FAIL, reason.slice(0, 255));
    } catch (err) {
      this.#log.warn('onFailed hook failed', { transactionId: challenge.transactionId, err: reasonOf(err) });
    }
  }

  /** Audit the refusal and build the error to throw. */
  async #refuse(
    req: EnrollRequest,
    failInfo: FailInfo,
    reason: string,
    cause?: unknown,
  ): Promise<EnrollmentError> {
    await this.#store.appendAudit(this.#audit(req, 'refuse', { details: { failInfo, reason } }));
    return cause instanceof EnrollmentError ? cause : new EnrollmentError(failInfo, reason, { cause });
  }

  #audit(
    req: EnrollRequest,
    action: string,
    extra: { serial?: string; subject?: string; details?: Record<string, unknown> },
  ): AuditEventInput {
    return {
      actor: ACTOR,
      action,
      transactionId: req.transactionId,
      serial: extra.serial ?? null,
      subject: extra.subject ?? null,
      details: {
        profile: req.profile,
        messageType: req.messageType,
        ...(req.remoteAddress ? { remoteAddress: req.remoteAddress } : {}),
        ...extra.details,
      },
    };
  }

  #info(record: CertificateRecord): IssuedCertificateInfo {
    return {
      serial: record.serial,
      der: record.der,
      thumbprint: record.thumbprint,
      notAfter: record.notAfter,
      issuer: this.#issuerText,
    };
  }
}

/** Wraps the error of a failed onIssued hook so the catch-all does not treat it as a policy failure. */
class HookError extends Error {
  constructor(readonly enrollmentError: EnrollmentError) {
    super(enrollmentError.message);
    this.name = 'HookError';
  }
}

function challengeRequest(req: EnrollRequest, csr: ParsedCsr): ChallengeRequest {
  return {
    transactionId: req.transactionId,
    profile: req.profile,
    messageType: req.messageType,
    ...(req.remoteAddress ? { remoteAddress: req.remoteAddress } : {}),
    csrDer: csr.der,
    challengePassword: csr.challengePassword,
    subject: csr.subjectText,
  };
}

/** A decision against the request (answered with a SCEP FAILURE), as opposed to an internal fault. */
function isRefusal(err: unknown): boolean {
  return err instanceof EnrollmentError || err instanceof PolicyError || err instanceof TransactionStateError;
}

function failInfoOf(err: unknown): FailInfo {
  if (err instanceof EnrollmentError) return err.failInfo;
  if (err instanceof PolicyError) return err.code;
  return 'badRequest';
}

function reasonOf(err: unknown): string {
  if (err instanceof PolicyError) return err.reason;
  if (err instanceof Error) return err.message;
  return 'unknown error';
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function truncate(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}
