import * as asn1js from 'asn1js';
import { encodedElement, hasDerLengths, oidElement } from '@scepkit/scep';
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
 * Build a v3 certificate (RFC 5280 §4.1) with asn1js and sign its TBS bytes with `signer`. The issuer, subject and
 * public key are the DER given, re-emitted as parsed (asn1js keeps each primitive's bytes), never rebuilt.
 * @returns the certificate DER
 */
export async function buildCertificate(template: CertificateTemplate, signer: Signer): Promise<Uint8Array> {
  const sigAlg = () =>
    new asn1js.Sequence({
      value: [
        oidElement(signer.algorithm.oid),
        ...(signer.algorithm.keyType === 'rsa' ? [new asn1js.Null()] : []),
      ],
    });
  const extensions = template.extensions.map(
    (ext) =>
      new asn1js.Sequence({
        value: [
          oidElement(ext.oid),
          ...(ext.critical ? [new asn1js.Boolean({ value: true })] : []),
          new asn1js.OctetString({ valueHex: toArrayBuffer(ext.value) }),
        ],
      }),
  );
  const tbs = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [new asn1js.Integer({ value: 2 })],
      }),
      new asn1js.Integer({ valueHex: toArrayBuffer(template.serial) }),
      sigAlg(),
      derElement(template.issuer, 'issuer Name'),
      new asn1js.Sequence({ value: [timeElement(template.notBefore), timeElement(template.notAfter)] }),
      derElement(template.subject, 'subject Name'),
      derElement(template.spki, 'SubjectPublicKeyInfo'),
      ...(extensions.length
        ? [
            new asn1js.Constructed({
              idBlock: { tagClass: 3, tagNumber: 3 },
              value: [new asn1js.Sequence({ value: extensions })],
            }),
          ]
        : []),
    ],
  });
  const tbsDer = new Uint8Array(tbs.toBER());
  const signature = await signer.sign(tbsDer);
  // The TBSCertificate as signed, not encoded a second time.
  const cert = new asn1js.Sequence({
    value: [encodedElement(tbsDer), sigAlg(), new asn1js.BitString({ valueHex: toArrayBuffer(signature) })],
  });
  return new Uint8Array(cert.toBER());
}

/**
 * One SEQUENCE given as DER (a Name or a SubjectPublicKeyInfo), as an asn1js element that encodes to it: written out
 * as is when its lengths are DER (asn1js would re-encode every node, identifiers digit by digit), else parsed and
 * re-encoded by asn1js as before (it keeps each primitive's bytes).
 */
function derElement(der: Uint8Array, what: string): asn1js.AsnType {
  if (der[0] === 0x30 && hasDerLengths(der)) return encodedElement(der);
  const parsed = asn1js.fromBER(der);
  if (parsed.offset !== der.byteLength || !(parsed.result instanceof asn1js.Sequence)) {
    throw new CaError('bad-name', `invalid ${what} DER`);
  }
  return parsed.result;
}

/** RFC 5280 §4.1.2.5 as an asn1js element: UTCTime through 2049, GeneralizedTime from 2050, whole seconds. */
function timeElement(date: Date): asn1js.AsnType {
  const valueDate = wholeSeconds(date);
  return valueDate.getUTCFullYear() < 2050
    ? new asn1js.UTCTime({ valueDate })
    : new asn1js.GeneralizedTime({ valueDate });
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
