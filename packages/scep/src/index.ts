/**
 * @scepkit/scep: the SCEP protocol (RFC 8894) for servers and clients. No I/O, no storage, no policy.
 */
export { OID } from './oids.js';
export { MESSAGE_TYPES, PKI_STATUSES, FAIL_INFOS } from './types.js';
export type {
  MessageType,
  PkiStatus,
  FailInfo,
  DigestName,
  ContentCipher,
  KeyTransport,
  RsaSignatureStyle,
} from './types.js';
export { ScepError } from './errors.js';
export type { ScepErrorCode } from './errors.js';
export { DEFAULT_DER_LIMITS, encodedElement, hasDerLengths, oidElement, parsedCsrTree } from './der.js';
export type { DerLimits } from './der.js';
export { keyObjectSigner, keyObjectDecrypter } from './keys.js';
export type { ScepSigner, ScepDecrypter, SyncScepDecrypter } from './keys.js';
export { DecryptThread, workerDecrypter } from './worker-decrypter.js';
export type { AsyncScepDecrypter } from './worker-decrypter.js';
export { CONTENT_CIPHERS } from './content-cipher.js';
export { unpadPkcs1Type2, syntheticKey } from './rsa-pkcs1.js';
export { buildEnvelopedData, openEnvelopedData } from './enveloped-data.js';
export type { EnvelopeOptions, OpenedEnvelope } from './enveloped-data.js';
export { buildSignedData, parseSignedData, verifySignedData, MAX_CERTIFICATES } from './signed-data.js';
export { buildCertsOnly, parseCertsOnly } from './degenerate.js';
export type { CertsOnly } from './degenerate.js';
export { MAX_ATTRIBUTE_STRING, MAX_NONCE_BYTES } from './attributes.js';
export type { ScepAttributes } from './attributes.js';
export { decodePkiMessage, openScepRequest } from './pki-message.js';
export type { PkiMessage, DecodeOptions, ScepRequest, ScepRequestBody } from './pki-message.js';
export { buildPkiRequest, transactionIdFor } from './pki-message-builder.js';
export type { RequestOptions, RequestBody, BuiltRequest } from './pki-message-builder.js';
export { buildCertRep, decodeCertRep, replyCipher } from './cert-rep.js';
export type { CertRepOptions, CertRepResult, DecodeCertRepOptions } from './cert-rep.js';
export { CAPABILITIES, parseCaps, formatCaps, chooseDigest, chooseCipher } from './caps.js';
export type { Capability } from './caps.js';
export {
  CONTENT_TYPES,
  OPERATIONS,
  MAX_GET_MESSAGE_CHARS,
  parseScepQuery,
  decodeBase64Message,
} from './transport.js';
export type { Operation } from './transport.js';
export { readCsr } from './csr.js';
export type { CsrSummary } from './csr.js';
export { selfSignedCertificate } from './self-signed.js';
export type { SelfSignedOptions } from './self-signed.js';
export { parseCertificate } from './certificate.js';
export { publicKeyFromSpki } from './public-key.js';
export type { ParsedCertificate } from './certificate.js';
