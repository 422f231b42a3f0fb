import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer, wholeSeconds } from '../bytes.js';
import { CaError } from '../errors.js';
import type { CaIdentity } from '../init/ca-identity.js';
import { OID } from '../oids.js';
import type { Signer } from '../signer/signer.js';
import { isStoreUnavailable } from '../store/errors.js';
import type { CertificateRepository } from '../store/index.js';

/** RFC 6960 §4.2.1 OCSPResponseStatus. */
export type OcspResponseStatus =
  'successful' | 'malformedRequest' | 'internalError' | 'tryLater' | 'unauthorized';
const STATUS_CODE: Record<OcspResponseStatus, number> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  unauthorized: 6,
};

export type OcspCertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspResponderOptions {
  ca: CaIdentity;
  store: Pick<CertificateRepository, 'getCertificate'>;
  /** A delegated responder (certificate with id-kp-OCSPSigning issued by the CA); default: the CA signs. */
  delegate?: { signer: Signer; certificateDer: Uint8Array };
  /** nextUpdate = thisUpdate + this. Default 1 hour. */
  validitySeconds?: number;
  /** At most this many CertIDs per request (else malformedRequest). Default 20. */
  maxRequests?: number;
  clock?: () => Date;
}

/** The outcome for one CertID (for logs and tests). */
export interface OcspSingleResult {
  serial: string;
  status: OcspCertStatus;
}

export interface OcspAnswer {
  status: OcspResponseStatus;
  /** The DER OCSPResponse to send (`application/ocsp-response`). */
  der: Uint8Array;
  results: OcspSingleResult[];
}

/**
 * OCSP responder (RFC 6960) for certificates of one CA: good / revoked / unknown, SHA-1 and SHA-256 CertIDs,
 * nonce echoed, signed by the CA or a delegated responder. Malformed requests get `malformedRequest`.
 *
 * @example
 * const ocsp = new OcspResponder({ ca, store });
 * const { der } = await ocsp.respond(requestBody);
 */
export class OcspResponder {
  readonly #ca: CaIdentity;
  readonly #store: OcspResponderOptions['store'];
  readonly #signer: Signer;
  readonly #certs: pkijs.Certificate[] | undefined;
  readonly #responderKeyHash: ArrayBuffer;
  readonly #validityMs: number;
  readonly #maxRequests: number;
  readonly #clock: () => Date;

  constructor(options: OcspResponderOptions) {
    this.#ca = options.ca;
    this.#store = options.store;
    this.#signer = options.delegate?.signer ?? options.ca.signer;
    this.#certs = options.delegate
      ? [pkijs.Certificate.fromBER(toArrayBuffer(options.delegate.certificateDer))]
      : undefined;
    const spki = pkijs.PublicKeyInfo.fromBER(toArrayBuffer(this.#signer.publicKeySpki));
    this.#responderKeyHash = toArrayBuffer(
      createHash('sha1').update(spki.subjectPublicKey.valueBlock.valueHexView).digest(),
    );
    this.#validityMs = (options.validitySeconds ?? 3600) * 1000;
    this.#maxRequests = options.maxRequests ?? 20;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Answer an OCSPRequest (DER). Never throws: failures become an unsuccessful OCSPResponse. */
  async respond(requestDer: Uint8Array): Promise<OcspAnswer> {
    let request: pkijs.OCSPRequest;
    try {
      request = pkijs.OCSPRequest.fromBER(toArrayBuffer(requestDer));
      const count = request.tbsRequest.requestList.length;
      if (count === 0 || count > this.#maxRequests)
        throw new CaError('malformed-request', 'bad request count');
    } catch {
      return unsuccessful('malformedRequest');
    }
    try {
      return await this.#answer(request);
    } catch (err) {
      // The database out of reach is temporary: RFC 6960 §2.3 tryLater, not internalError.
      return unsuccessful(isStoreUnavailable(err) ? 'tryLater' : 'internalError');
    }
  }

  async #answer(request: pkijs.OCSPRequest): Promise<OcspAnswer> {
    const now = wholeSeconds(this.#clock());
    const nextUpdate = new Date(now.getTime() + this.#validityMs);
    const results: OcspSingleResult[] = [];
    const responses: pkijs.SingleResponse[] = [];
    for (const req of request.tbsRequest.requestList) {
      const { status, serial, certStatus } = await this.#status(req.reqCert);
      results.push({ serial, status });
      responses.push(
        new pkijs.SingleResponse({ certID: req.reqCert, certStatus, thisUpdate: now, nextUpdate }),
      );
    }
    const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === OID.ocspNonce);
    const data = new pkijs.ResponseData({
      responderID: new asn1js.OctetString({ valueHex: this.#responderKeyHash }),
      producedAt: now,
      responses,
      ...(nonce ? { responseExtensions: [nonce] } : {}),
    });
    data.tbsView = new Uint8Array(data.toSchema(true).toBER());
    const sigAlg = new pkijs.AlgorithmIdentifier({ algorithmId: this.#signer.algorithm.oid });
    if (this.#signer.algorithm.keyType === 'rsa') sigAlg.algorithmParams = new asn1js.Null();
    const signature = await this.#signer.sign(data.tbsView);
    const basic = new pkijs.BasicOCSPResponse({
      tbsResponseData: data,
      signatureAlgorithm: sigAlg,
      signature: new asn1js.BitString({ valueHex: toArrayBuffer(signature) }),
      ...(this.#certs ? { certs: this.#certs } : {}),
    });
    const response = new pkijs.OCSPResponse({
      responseStatus: new asn1js.Enumerated({ value: STATUS_CODE.successful }),
      responseBytes: new pkijs.ResponseBytes({
        responseType: OID.ocspBasic,
        response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER() }),
      }),
    });
    return { status: 'successful', der: new Uint8Array(response.toSchema().toBER()), results };
  }

  async #status(
    certId: pkijs.CertID,
  ): Promise<{ status: OcspCertStatus; serial: string; certStatus: asn1js.BaseBlock }> {
    const serial =
      Buffer.from(certId.serialNumber.valueBlock.valueHexView).toString('hex').replace(/^0+/, '') || '0';
    const unknown = { status: 'unknown' as const, serial, certStatus: implicitNull(2) };
    if (!this.#isOurs(certId)) return unknown;
    const record = await this.#store.getCertificate(serial);
    if (!record) return unknown;
    if (record.status === 'revoked' && record.revokedAt) {
      const info: asn1js.BaseBlock[] = [
        new asn1js.GeneralizedTime({ valueDate: wholeSeconds(record.revokedAt) }),
      ];
      if (record.revocationReason !== null) {
        info.push(
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 0 },
            value: [new asn1js.Enumerated({ value: record.revocationReason })],
          }),
        );
      }
      return {
        status: 'revoked',
        serial,
        certStatus: new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: info }),
      };
    }
    return { status: 'good', serial, certStatus: implicitNull(0) };
  }

  #isOurs(certId: pkijs.CertID): boolean {
    const alg = certId.hashAlgorithm.algorithmId;
    const hashes =
      alg === OID.sha1
        ? this.#ca.certIdHashes.sha1
        : alg === OID.sha256
          ? this.#ca.certIdHashes.sha256
          : null;
    if (!hashes) return false;
    return (
      hashes.name.equals(Buffer.from(certId.issuerNameHash.valueBlock.valueHexView)) &&
      hashes.key.equals(Buffer.from(certId.issuerKeyHash.valueBlock.valueHexView))
    );
  }
}

/** CertStatus good [0] / unknown [2]: IMPLICIT NULL. */
function implicitNull(tag: number): asn1js.BaseBlock {
  return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: tag } });
}

function unsuccessful(status: Exclude<OcspResponseStatus, 'successful'>): OcspAnswer {
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: STATUS_CODE[status] }),
  });
  return { status, der: new Uint8Array(response.toSchema().toBER()), results: [] };
}
