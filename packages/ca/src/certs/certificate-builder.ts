import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer, wholeSeconds } from '../bytes.js';
import { CaError } from '../errors.js';
import type { Signer } from '../signer/signer.js';

/** One X.509 extension: OID, criticality and the DER of its value (the content of extnValue). */
export interface ExtensionSpec {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

/** Everything the issuer puts into a TBSCertificate. */
export interface CertificateTemplate {
  /** Serial number bytes: minimal positive DER INTEGER content (see `generateSerial`). */
  serial: Uint8Array;
  /** Issuer Name DER (the CA certificate's subject, byte for byte). */
  issuer: Uint8Array;
  /** Subject Name DER, copied as given (RDN order and string types preserved). */
  subject: Uint8Array;
  /** SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  extensions: readonly ExtensionSpec[];
}

/**
 * Build a v3 certificate with pkijs and sign its TBS bytes with `signer`.
 * @returns the certificate DER
 */
export async function buildCertificate(template: CertificateTemplate, signer: Signer): Promise<Uint8Array> {
  const sigAlg = new pkijs.AlgorithmIdentifier({ algorithmId: signer.algorithm.oid });
  if (signer.algorithm.keyType === 'rsa') sigAlg.algorithmParams = new asn1js.Null();
  const cert = new pkijs.Certificate({
    version: 2,
    serialNumber: new asn1js.Integer({ valueHex: toArrayBuffer(template.serial) }),
    signature: sigAlg,
    issuer: parseName(template.issuer),
    subject: parseName(template.subject),
    notBefore: x509Time(template.notBefore),
    notAfter: x509Time(template.notAfter),
    subjectPublicKeyInfo: pkijs.PublicKeyInfo.fromBER(toArrayBuffer(template.spki)),
    extensions: template.extensions.map(toPkijsExtension),
    signatureAlgorithm: sigAlg,
  });
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER());
  const signature = await signer.sign(cert.tbsView);
  cert.signatureValue = new asn1js.BitString({ valueHex: toArrayBuffer(signature) });
  return new Uint8Array(cert.toSchema(false).toBER());
}

/**
 * A pkijs Name that encodes to exactly these bytes: pkijs re-emits `valueBeforeDecode` verbatim, so the DER is
 * only checked to be one SEQUENCE here, not decoded into attributes (it comes from a verified CSR or our CA).
 */
export function parseName(der: Uint8Array): pkijs.RelativeDistinguishedNames {
  const parsed = asn1js.fromBER(toArrayBuffer(der));
  if (parsed.offset !== der.byteLength || !(parsed.result instanceof asn1js.Sequence)) {
    throw new CaError('bad-name', 'invalid Name DER');
  }
  return new pkijs.RelativeDistinguishedNames({ valueBeforeDecode: toArrayBuffer(der) });
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, whole seconds. */
export function x509Time(date: Date): pkijs.Time {
  const value = wholeSeconds(date);
  return new pkijs.Time({ type: value.getUTCFullYear() < 2050 ? 0 : 1, value });
}

export function toPkijsExtension(ext: ExtensionSpec): pkijs.Extension {
  return new pkijs.Extension({
    extnID: ext.oid,
    critical: ext.critical,
    extnValue: toArrayBuffer(ext.value),
  });
}
