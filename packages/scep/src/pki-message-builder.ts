import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { buildScepAttributes } from './attributes.js';
import { fromSchema, parseDer } from './der.js';
import { buildEnvelopedData } from './enveloped-data.js';
import { ScepError } from './errors.js';
import type { ScepSigner } from './keys.js';
import { buildSignedData } from './signed-data.js';
import type { ContentCipher, DigestName, KeyTransport, RsaSignatureStyle } from './types.js';

export type RequestBody =
  | { messageType: 'PKCSReq' | 'RenewalReq'; csr: Uint8Array }
  | { messageType: 'CertPoll'; issuer: Uint8Array; subject: Uint8Array }
  | { messageType: 'GetCert' | 'GetCRL'; issuer: Uint8Array; serial: Uint8Array };

export interface RequestOptions {
  body: RequestBody;
  /** The requester's key with its certificate (self-signed for PKCSReq, the current one for RenewalReq). */
  signer: ScepSigner;
  /** The CA or RA encryption certificate(s), from GetCACert. */
  recipients: readonly Uint8Array[];
  /** Defaults to `transactionIdFor(csr)` for enrollment requests, else random hex. */
  transactionId?: string;
  senderNonce?: Uint8Array;
  digest?: DigestName;
  cipher?: ContentCipher;
  keyTransport?: KeyTransport;
  oaepHash?: DigestName;
  rsaStyle?: RsaSignatureStyle;
  /** Further certificates to carry (e.g. an intermediate for a RenewalReq). */
  includeCertificates?: readonly Uint8Array[];
}

export interface BuiltRequest {
  der: Uint8Array;
  transactionId: string;
  senderNonce: Uint8Array;
}

/** RFC 8894 §3.2.1.1: a transactionID derived from the public key; here hex SHA-256 of the CSR's SubjectPublicKeyInfo. */
export function transactionIdFor(csr: Uint8Array): string {
  const req = fromSchema('CSR', () => new pkijs.CertificationRequest({ schema: parseDer(csr, 'CSR') }));
  return createHash('sha256')
    .update(new Uint8Array(req.subjectPublicKeyInfo.toSchema().toBER()))
    .digest('hex');
}

function encodeBody(body: RequestBody): Uint8Array {
  switch (body.messageType) {
    case 'PKCSReq':
    case 'RenewalReq':
      return body.csr;
    case 'CertPoll': {
      const seq = new asn1js.Sequence({
        value: [parseDer(body.issuer, 'issuer Name'), parseDer(body.subject, 'subject Name')],
      });
      return new Uint8Array(seq.toBER());
    }
    case 'GetCert':
    case 'GetCRL': {
      const ias = new pkijs.IssuerAndSerialNumber({
        issuer: fromSchema(
          'issuer Name',
          () => new pkijs.RelativeDistinguishedNames({ schema: parseDer(body.issuer, 'issuer Name') }),
        ),
        serialNumber: new asn1js.Integer({ valueHex: body.serial }),
      });
      return new Uint8Array(ias.toSchema().toBER());
    }
  }
}

/** Client side: builds a signed and encrypted pkiMessage request (RFC 8894 §3.3.1, §3.3.3, §3.3.4). */
export async function buildPkiRequest(o: RequestOptions): Promise<BuiltRequest> {
  if (o.recipients.length === 0)
    throw new ScepError('badArgument', 'a request needs a recipient certificate');
  const isEnroll = o.body.messageType === 'PKCSReq' || o.body.messageType === 'RenewalReq';
  const transactionId =
    o.transactionId ??
    (isEnroll && 'csr' in o.body ? transactionIdFor(o.body.csr) : randomBytes(16).toString('hex'));
  const senderNonce = o.senderNonce ?? randomBytes(16);
  const envelope = buildEnvelopedData(encodeBody(o.body), o.recipients, {
    cipher: o.cipher ?? 'aes-256-cbc',
    keyTransport: o.keyTransport ?? 'rsa-pkcs1',
    ...(o.oaepHash ? { oaepHash: o.oaepHash } : {}),
  });
  const der = await buildSignedData({
    signer: o.signer,
    digest: o.digest ?? 'sha256',
    rsaStyle: o.rsaStyle ?? 'shaWithRsa',
    attributes: buildScepAttributes({ messageType: o.body.messageType, transactionId, senderNonce }),
    content: envelope,
    certificates: o.includeCertificates ?? [],
  });
  return { der, transactionId, senderNonce };
}
