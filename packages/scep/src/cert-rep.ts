import { randomBytes } from 'node:crypto';
import { buildScepAttributes } from './attributes.js';
import type { DerLimits } from './der.js';
import { buildCertsOnly, parseCertsOnly } from './degenerate.js';
import { buildEnvelopedData, openEnvelopedData } from './enveloped-data.js';
import { ScepError } from './errors.js';
import type { ScepDecrypter, ScepSigner } from './keys.js';
import { decodePkiMessage } from './pki-message.js';
import type { PkiMessage } from './pki-message.js';
import { buildSignedData } from './signed-data.js';
import type {
  ContentCipher,
  DigestName,
  FailInfo,
  KeyTransport,
  PkiStatus,
  RsaSignatureStyle,
} from './types.js';

/**
 * The cipher a reply is encrypted with: the client's own, except single DES, which we never send (Debian's OpenSSL 3
 * refuses it); triple DES is what every DES-only client also reads.
 */
export function replyCipher(requestCipher: ContentCipher): ContentCipher {
  return requestCipher === 'des-cbc' ? 'des-ede3-cbc' : requestCipher;
}

export interface CertRepOptions {
  /** The request being answered (a decoded PkiMessage, or just the fields a reply echoes). */
  request: Pick<PkiMessage, 'transactionId' | 'senderNonce' | 'signerCertificate'> &
    Partial<Pick<PkiMessage, 'digest' | 'plainRsaSignature' | 'signer'>>;
  status: PkiStatus;
  failInfo?: FailInfo;
  /** Short public text for FAILURE (id-scep-failInfoText); never internal details. */
  failInfoText?: string;
  /** SUCCESS: the issued certificate first, then any chain to return. */
  certificates?: readonly Uint8Array[];
  /** SUCCESS to GetCRL: the CRL. */
  crls?: readonly Uint8Array[];
  signer: ScepSigner;
  /** Certificates to carry in the outer SignedData besides the signer's (e.g. the CA). */
  includeCertificates?: readonly Uint8Array[];
  /** Defaults to the request's digest, else sha256. */
  digest?: DigestName;
  /** Content cipher for SUCCESS; defaults to `replyCipher` of what the client used, else aes-256-cbc. */
  cipher?: ContentCipher;
  requestCipher?: ContentCipher;
  keyTransport?: KeyTransport;
  /** Defaults to what the request used (certmonger's plain rsaEncryption is mirrored). */
  rsaStyle?: RsaSignatureStyle;
  senderNonce?: Uint8Array;
  signingTime?: Date;
}

/** Builds a signed CertRep (RFC 8894 §3.3.2): SUCCESS with the certificates enveloped to the requester, or FAILURE/PENDING. */
export async function buildCertRep(o: CertRepOptions): Promise<Uint8Array> {
  if (o.status === 'FAILURE' && !o.failInfo) throw new ScepError('badArgument', 'FAILURE needs a failInfo');
  let content: Uint8Array = new Uint8Array(0);
  if (o.status === 'SUCCESS') {
    if (!o.certificates?.length && !o.crls?.length) {
      throw new ScepError('badArgument', 'SUCCESS needs a certificate or a CRL');
    }
    const inner = buildCertsOnly(o.certificates ?? [], o.crls ?? []);
    const cipher = o.cipher ?? (o.requestCipher ? replyCipher(o.requestCipher) : 'aes-256-cbc');
    const { signer, signerCertificate } = o.request;
    const recipient = signer?.der === signerCertificate ? signer : signerCertificate;
    content = buildEnvelopedData(inner, [recipient], {
      cipher,
      keyTransport: o.keyTransport ?? 'rsa-pkcs1',
    });
  }
  const attributes = buildScepAttributes({
    messageType: 'CertRep',
    transactionId: o.request.transactionId,
    senderNonce: o.senderNonce ?? randomBytes(16),
    recipientNonce: o.request.senderNonce,
    pkiStatus: o.status,
    ...(o.status === 'FAILURE' ? { failInfo: o.failInfo } : {}),
    ...(o.status === 'FAILURE' && o.failInfoText ? { failInfoText: o.failInfoText } : {}),
  });
  return buildSignedData({
    signer: o.signer,
    digest: o.digest ?? o.request.digest ?? 'sha256',
    rsaStyle: o.rsaStyle ?? (o.request.plainRsaSignature ? 'rsaEncryption' : 'shaWithRsa'),
    attributes,
    content,
    certificates: o.includeCertificates ?? [],
    ...(o.signingTime ? { signingTime: o.signingTime } : {}),
  });
}

export interface CertRepResult {
  message: PkiMessage;
  status: PkiStatus;
  failInfo?: FailInfo;
  failInfoText?: string;
  /** SUCCESS: the certificates returned (the issued one is the one whose key the client holds). */
  certificates: Uint8Array[];
  crls: Uint8Array[];
}

export interface DecodeCertRepOptions {
  /** The client's key and the certificate it signed the request with. */
  decrypter: ScepDecrypter;
  /** When given, the reply must match the request's transactionID and echo its senderNonce. */
  expect?: { transactionId: string; senderNonce: Uint8Array };
  /** CA/RA certificates from GetCACert: the reply must be signed by one of them when given. */
  trustedSigners?: readonly Uint8Array[];
  limits?: DerLimits;
}

/** Client side: verifies a CertRep and decrypts its certificates. */
export async function decodeCertRep(raw: Uint8Array, o: DecodeCertRepOptions): Promise<CertRepResult> {
  const message = decodePkiMessage(raw, {
    ...(o.limits ? { limits: o.limits } : {}),
    extraCertificates: o.trustedSigners ?? [],
  });
  if (message.messageType !== 'CertRep') throw new ScepError('badAttribute', 'not a CertRep');
  if (o.trustedSigners && !o.trustedSigners.some((c) => Buffer.compare(c, message.signerCertificate) === 0)) {
    throw new ScepError('noSignerCertificate', 'CertRep is not signed by the CA or RA');
  }
  if (o.expect) {
    if (message.transactionId !== o.expect.transactionId) {
      throw new ScepError('badAttribute', 'CertRep transactionID does not match the request');
    }
    if (!message.recipientNonce || Buffer.compare(message.recipientNonce, o.expect.senderNonce) !== 0) {
      throw new ScepError('badAttribute', 'CertRep recipientNonce does not match the request senderNonce');
    }
  }
  const status = message.pkiStatus;
  if (!status) throw new ScepError('missingAttribute', 'pkiStatus attribute missing');
  const out: CertRepResult = { message, status, certificates: [], crls: [] };
  if (status === 'FAILURE') {
    if (!message.failInfo) throw new ScepError('missingAttribute', 'failInfo attribute missing');
    out.failInfo = message.failInfo;
    if (message.failInfoText) out.failInfoText = message.failInfoText;
  }
  if (status === 'SUCCESS') {
    if (!message.envelope) throw new ScepError('malformed', 'SUCCESS CertRep has no content');
    const opened = await openEnvelopedData(message.envelope, [o.decrypter], o.limits);
    const inner = parseCertsOnly(opened.content, o.limits);
    out.certificates = inner.certificates;
    out.crls = inner.crls;
  }
  return out;
}
