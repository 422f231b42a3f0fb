import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { readScepAttributes } from './attributes.js';
import type { ParsedCertificate } from './certificate.js';
import type { ScepAttributes } from './attributes.js';
import { fromSchema, parseDer, rememberCsrTree } from './der.js';
import type { DerLimits } from './der.js';
import { openEnvelopedData } from './enveloped-data.js';
import { ScepError } from './errors.js';
import type { ScepDecrypter } from './keys.js';
import { OID } from './oids.js';
import { parseSignedData, verifySignedData } from './signed-data.js';
import type { ContentCipher, DigestName, KeyTransport } from './types.js';

/** A pkiMessage (RFC 8894 §3.2) whose signature has been verified against the signer certificate it names. */
export interface PkiMessage extends ScepAttributes {
  digest: DigestName;
  /** The signer named its algorithm with the plain rsaEncryption OID (certmonger does). */
  plainRsaSignature: boolean;
  /** DER of the signer certificate (self-signed for PKCSReq, the existing certificate for RenewalReq). */
  signerCertificate: Uint8Array;
  /** `signerCertificate` as parsed to verify the message, so a reply enveloped to it does not parse it again. */
  signer?: ParsedCertificate;
  /** DER of every certificate in the message. */
  certificates: Uint8Array[];
  /** The pkcsPKIEnvelope (an EnvelopedData ContentInfo), absent or empty for CertRep FAILURE/PENDING. */
  envelope: Uint8Array | undefined;
}

export interface DecodeOptions {
  limits?: DerLimits;
  /** Further certificates that may have signed the message (e.g. the RA certificate a client pinned). */
  extraCertificates?: readonly Uint8Array[];
}

/**
 * Parses a pkiMessage and verifies its signature over the exact bytes received. Does not decrypt.
 * Throws `ScepError`: a message that fails here is not authenticated.
 */
export function decodePkiMessage(raw: Uint8Array, opts: DecodeOptions = {}): PkiMessage {
  const parsed = parseSignedData(raw, opts.limits);
  if (parsed.eContentType !== OID.data) {
    throw new ScepError('wrongContentType', 'pkiMessage content is not id-data');
  }
  const candidates = [...parsed.certificates, ...(opts.extraCertificates ?? [])];
  const v = verifySignedData(parsed, candidates);
  const attrs = readScepAttributes(v.attributes);
  const ct = v.attributes.get(OID.contentType);
  if (ct !== undefined && !(ct instanceof asn1js.ObjectIdentifier && ct.valueBlock.toString() === OID.data)) {
    throw new ScepError('badAttribute', 'contentType attribute is not id-data');
  }
  return {
    ...attrs,
    digest: v.digest,
    plainRsaSignature: v.plainRsa,
    signerCertificate: v.signerCertificate.der,
    signer: v.signerCertificate,
    certificates: parsed.certificates,
    envelope: parsed.content && parsed.content.length > 0 ? parsed.content : undefined,
  };
}

/** What a client asks for, by message type (RFC 8894 §3.3). */
export type ScepRequestBody =
  | { messageType: 'PKCSReq' | 'RenewalReq'; csr: Uint8Array }
  | { messageType: 'CertPoll'; issuer: Uint8Array; subject: Uint8Array }
  | { messageType: 'GetCert' | 'GetCRL'; issuer: Uint8Array; serial: Uint8Array };

export interface ScepRequest {
  message: PkiMessage;
  body: ScepRequestBody;
  /** The content cipher the client used; a reply should use what the client can read. */
  cipher: ContentCipher;
  keyTransport: KeyTransport;
  /** The decrypter (CA or RA) the client encrypted to. */
  recipient: ScepDecrypter;
}

/** Decrypts the pkcsPKIEnvelope of an authenticated request and decodes its content by message type. */
export async function openScepRequest(
  message: PkiMessage,
  decrypters: readonly ScepDecrypter[],
  limits?: DerLimits,
): Promise<ScepRequest> {
  if (message.messageType === 'CertRep') throw new ScepError('badArgument', 'a CertRep is not a request');
  if (!message.envelope) throw new ScepError('malformed', 'request has no pkcsPKIEnvelope');
  const opened = await openEnvelopedData(message.envelope, decrypters, limits);
  const content = opened.content;
  let body: ScepRequestBody;
  switch (message.messageType) {
    case 'PKCSReq':
    case 'RenewalReq': {
      // One bounded DER element shaped like a PKCS#10 CertificationRequest (RFC 2986 §4.2: info, algorithm,
      // signature); the CA parses it fully and verifies its signature, so it is not schema-matched twice.
      const asn = parseDer(content, 'CSR', limits);
      const parts = asn instanceof asn1js.Sequence ? asn.valueBlock.value : [];
      if (
        parts.length !== 3 ||
        !(parts[0] instanceof asn1js.Sequence) ||
        !(parts[1] instanceof asn1js.Sequence) ||
        !(parts[2] instanceof asn1js.BitString)
      ) {
        throw new ScepError('malformed', 'CSR: not a PKCS#10 CertificationRequest');
      }
      rememberCsrTree(content, asn);
      body = { messageType: message.messageType, csr: content };
      break;
    }
    case 'CertPoll': {
      const asn = parseDer(content, 'IssuerAndSubject', limits);
      const parts = asn instanceof asn1js.Sequence ? asn.valueBlock.value : [];
      const [issuer, subject] = parts;
      if (
        parts.length !== 2 ||
        !(issuer instanceof asn1js.Sequence) ||
        !(subject instanceof asn1js.Sequence)
      ) {
        throw new ScepError('malformed', 'IssuerAndSubject is not a SEQUENCE of two Names');
      }
      body = {
        messageType: 'CertPoll',
        issuer: new Uint8Array(issuer.valueBeforeDecodeView),
        subject: new Uint8Array(subject.valueBeforeDecodeView),
      };
      break;
    }
    case 'GetCert':
    case 'GetCRL': {
      const asn = parseDer(content, 'IssuerAndSerialNumber', limits);
      const ias = fromSchema('IssuerAndSerialNumber', () => new pkijs.IssuerAndSerialNumber({ schema: asn }));
      body = {
        messageType: message.messageType,
        issuer: new Uint8Array(ias.issuer.toSchema().toBER()),
        serial: new Uint8Array(ias.serialNumber.valueBlock.valueHexView),
      };
      break;
    }
  }
  return {
    message,
    body,
    cipher: opened.cipher,
    keyTransport: opened.keyTransport,
    recipient: opened.recipient,
  };
}
