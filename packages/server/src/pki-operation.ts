import { performance } from 'node:perf_hooks';
import { buildCertRep, decodePkiMessage, openScepRequest, ScepError } from '@scepkit/scep';
import type { FailInfo, PkiMessage, ScepRequest } from '@scepkit/scep';
import type { EnrollRequest, EnrollResult, ScepBackend } from './backend.js';
import { isRefusal } from './backend.js';
import type { ScepMetrics } from './metrics.js';
import type { ScepPki } from './pki.js';
import type { RequestContext } from './request-context.js';

/** Generic public texts for FAILUREs the server decides itself (RFC 8894 §3.2.1.4 wording). */
export const FAIL_INFO_TEXT: Record<FailInfo, string> = {
  badAlg: 'Unrecognized or unsupported algorithm',
  badMessageCheck: 'Integrity check failed',
  badRequest: 'Transaction not permitted or supported',
  badTime: 'Message time is too far from system time',
  badCertId: 'No certificate could be identified matching the provided criteria',
};

export interface PkiOperationContext {
  endpoint: string;
  pki: ScepPki;
  backend: ScepBackend;
  metrics: ScepMetrics;
}

/** The outcome of a PKIOperation at the HTTP level. */
export type PkiOperationAnswer = { kind: 'certRep'; body: Buffer } | { kind: 'rejected'; reason: string };

/**
 * Decode -> authority -> encode. A message whose signature verifies always gets a signed CertRep (FAILURE with
 * a generic failInfoText when refused); anything else is `rejected` (HTTP 400). Our faults throw (HTTP 500).
 */
export async function pkiOperation(
  raw: Uint8Array,
  remoteAddress: string,
  c: PkiOperationContext,
  log: RequestContext,
): Promise<PkiOperationAnswer> {
  let message: PkiMessage;
  try {
    message = decodePkiMessage(raw);
  } catch (err) {
    if (err instanceof ScepError)
      return { kind: 'rejected', reason: `pkiMessage not accepted (${err.code})` };
    throw err;
  }
  log.messageType = message.messageType;
  log.transactionId = message.transactionId;
  if (message.messageType === 'CertRep') return { kind: 'rejected', reason: 'a CertRep is not a request' };

  const started = performance.now();
  const opened = await open(message, c.pki.decrypters, log);
  const request = 'body' in opened ? opened : undefined;
  const reply = (result: DispatchResult): Promise<Uint8Array> =>
    buildCertRep({
      request: message,
      status: result.status,
      ...(result.status === 'FAILURE'
        ? { failInfo: result.failInfo, failInfoText: result.failInfoText ?? FAIL_INFO_TEXT[result.failInfo] }
        : {}),
      ...(result.status === 'SUCCESS' && request
        ? {
            certificates: result.certificates,
            requestCipher: request.cipher,
            keyTransport: request.keyTransport,
          }
        : {}),
      ...(result.status === 'SUCCESS' && 'crls' in result ? { crls: result.crls } : {}),
      signer: c.pki.signer,
      includeCertificates: c.pki.replyCertificates,
    });
  // The CertRep for a just-signed certificate is built while the authority stores it (and notifies Intune); it
  // is sent only if the enrollment then succeeds with that very certificate.
  let prepared: { certificate: Uint8Array; body: Promise<Uint8Array> } | undefined;
  const onSigned = (certificates: readonly Uint8Array[]): void => {
    const body = reply({ status: 'SUCCESS', certificates });
    body.catch(() => undefined); // awaited below if used; a failure then surfaces there
    prepared = { certificate: certificates[0]!, body };
  };
  const result = request ? await dispatch(request, remoteAddress, c, onSigned) : (opened as DispatchResult);
  const body =
    result.status === 'SUCCESS' &&
    prepared !== undefined &&
    result.certificates[0] !== undefined &&
    Buffer.from(prepared.certificate).equals(Buffer.from(result.certificates[0]))
      ? await prepared.body
      : await reply(result);
  log.pkiStatus = result.status;
  if (result.status === 'FAILURE') log.failInfo = result.failInfo;
  c.metrics.enrollmentDuration.observe({ outcome: result.status }, (performance.now() - started) / 1000);
  if (
    result.status === 'SUCCESS' &&
    (message.messageType === 'PKCSReq' ||
      message.messageType === 'RenewalReq' ||
      message.messageType === 'CertPoll')
  ) {
    c.metrics.certificatesIssued.inc();
  }
  return { kind: 'certRep', body: Buffer.from(body) };
}

/** Decrypts the envelope; an authenticated but undecryptable request gets a FAILURE (RFC 8894 §3.3.2.2). */
async function open(
  message: PkiMessage,
  decrypters: PkiOperationContext['pki']['decrypters'],
  log: RequestContext,
): Promise<ScepRequest | DispatchResult> {
  try {
    return await openScepRequest(message, decrypters);
  } catch (err) {
    if (!(err instanceof ScepError)) throw err;
    log.reason = `envelope: ${err.code}`;
    return {
      status: 'FAILURE',
      failInfo: err.code === 'unsupportedAlgorithm' ? 'badAlg' : 'badMessageCheck',
    };
  }
}

type DispatchResult =
  EnrollResult | { status: 'SUCCESS'; certificates: readonly Uint8Array[]; crls: readonly Uint8Array[] };

async function dispatch(
  request: ScepRequest,
  remoteAddress: string,
  c: PkiOperationContext,
  onSigned: NonNullable<EnrollRequest['onSigned']>,
): Promise<DispatchResult> {
  const { body, message } = request;
  try {
    switch (body.messageType) {
      case 'PKCSReq':
      case 'RenewalReq':
      case 'CertPoll':
        return await c.backend.enroll({
          endpoint: c.endpoint,
          messageType: body.messageType,
          transactionId: message.transactionId,
          signerCertificate: message.signerCertificate,
          remoteAddress,
          onSigned,
          ...(body.messageType === 'CertPoll'
            ? { issuer: body.issuer, subject: body.subject }
            : { csr: body.csr }),
        });
      case 'GetCert': {
        const cert = await c.backend.getCert(body.issuer, body.serial);
        return cert
          ? { status: 'SUCCESS', certificates: [cert] }
          : { status: 'FAILURE', failInfo: 'badCertId' };
      }
      case 'GetCRL': {
        const crl = await c.backend.getCrl();
        return { status: 'SUCCESS', certificates: [], crls: [crl.der] };
      }
    }
  } catch (err) {
    if (isRefusal(err)) {
      return {
        status: 'FAILURE',
        failInfo: err.failInfo,
        failInfoText: err.failInfoText ?? FAIL_INFO_TEXT[err.failInfo],
      };
    }
    throw err;
  }
}
