import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { encodedElement, fromSchema, oidElement, parseDer, scanOnly } from './der.js';
import type { DerLimits } from './der.js';
import { ScepError } from './errors.js';
import { OID } from './oids.js';
import { MAX_CERTIFICATES } from './signed-data.js';

/**
 * Checks that `der` is one complete SEQUENCE (a certificate or CRL) and returns it as an element that encodes to the
 * same bytes. Only its framing is checked (no element budget): a CRL can be large, and it is our own input.
 */
function element(der: Uint8Array, what: string): asn1js.AsnType {
  scanOnly(der, what);
  if (der[0] !== 0x30) throw new ScepError('badArgument', `${what} is not a SEQUENCE`);
  return encodedElement(der);
}

const tagged = (tagNumber: number, value: asn1js.AsnType[]) =>
  new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value });

/**
 * Builds a degenerate certificates-only SignedData (RFC 8894 §3.4; no signers, no content) as used by
 * GetCACert (CA + RA chain), GetNextCACert, and inside a CertRep for the issued certificate or a CRL.
 *
 * ```asn1
 * SignedData ::= SEQUENCE { version 1, digestAlgorithms SET {}, encapContentInfo { id-data },
 *   certificates [0] IMPLICIT SET OF Certificate, crls [1] IMPLICIT SET OF CertificateList, signerInfos SET {} }
 * ```
 * Certificates and CRLs are copied byte for byte, not re-encoded (a CRL need not be one pkijs can model).
 */
export function buildCertsOnly(
  certificates: readonly Uint8Array[],
  crls: readonly Uint8Array[] = [],
): Uint8Array {
  const certs = certificates.map((c) => element(c, 'certificate'));
  const revs = crls.map((c) => element(c, 'CRL'));
  const signedData = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Set({ value: [] }),
      new asn1js.Sequence({ value: [oidElement(OID.data)] }),
      ...(certs.length ? [tagged(0, certs)] : []),
      ...(revs.length ? [tagged(1, revs)] : []),
      new asn1js.Set({ value: [] }),
    ],
  });
  const ci = new asn1js.Sequence({
    value: [oidElement(OID.signedData), tagged(0, [signedData])],
  });
  return new Uint8Array(ci.toBER());
}

export interface CertsOnly {
  certificates: Uint8Array[];
  crls: Uint8Array[];
}

const isContext = (el: asn1js.AsnType, n: number) =>
  el.idBlock.tagClass === 3 && el.idBlock.tagNumber === n && el.idBlock.isConstructed;
const raw = (el: asn1js.AsnType) => new Uint8Array(el.valueBeforeDecodeView);

/**
 * Parses a degenerate certificates-only SignedData. Certificates (checked to be X.509) and CRLs (checked to be
 * SEQUENCEs) are returned as the bytes received. Other certificate and revocation choices are skipped.
 */
export function parseCertsOnly(der: Uint8Array, limits?: DerLimits): CertsOnly {
  const asn = parseDer(der, 'SignedData', limits);
  const ci = fromSchema('ContentInfo', () => new pkijs.ContentInfo({ schema: asn }));
  if (ci.contentType !== OID.signedData) {
    throw new ScepError('wrongContentType', `expected SignedData, got ${ci.contentType}`);
  }
  const sd = ci.content as asn1js.AsnType;
  const parts = sd instanceof asn1js.Sequence ? sd.valueBlock.value : [];
  const [version, digestAlgorithms, encap] = parts;
  const signerInfos = parts[parts.length - 1];
  if (
    parts.length < 4 ||
    parts.length > 6 ||
    !(version instanceof asn1js.Integer) ||
    !(digestAlgorithms instanceof asn1js.Set) ||
    !(encap instanceof asn1js.Sequence) ||
    !(signerInfos instanceof asn1js.Set)
  ) {
    throw new ScepError('malformed', 'SignedData: not a SignedData structure');
  }
  if (signerInfos.valueBlock.value.length !== 0)
    throw new ScepError('malformed', 'certs-only SignedData has signers');
  const optional = parts.slice(3, -1);
  const certSet = optional.find((el) => isContext(el, 0));
  const crlSet = optional.find((el) => isContext(el, 1));
  if (
    optional.some((el) => el !== certSet && el !== crlSet) ||
    (certSet && crlSet && optional[0] !== certSet)
  ) {
    throw new ScepError('malformed', 'SignedData: unexpected element');
  }
  const certEls = certSet ? (certSet as asn1js.Constructed).valueBlock.value : [];
  const crlEls = crlSet ? (crlSet as asn1js.Constructed).valueBlock.value : [];
  if (certEls.length > MAX_CERTIFICATES) {
    throw new ScepError(
      'limitExceeded',
      `SignedData carries ${certEls.length} certificates (max ${MAX_CERTIFICATES})`,
    );
  }
  if (crlEls.length > MAX_CERTIFICATES) throw new ScepError('limitExceeded', 'too many CRLs');
  const certificates: Uint8Array[] = [];
  for (const el of certEls) {
    if (!(el instanceof asn1js.Sequence)) continue; // [1]/[2]/[3] attribute or other certificates
    fromSchema('certificate', () => new pkijs.Certificate({ schema: el }));
    certificates.push(raw(el));
  }
  const crls: Uint8Array[] = [];
  for (const el of crlEls) {
    if (!(el instanceof asn1js.Sequence)) continue; // [1] OtherRevocationInfoFormat
    if (!(el.valueBlock.value[0] instanceof asn1js.Sequence))
      throw new ScepError('malformed', 'CRL: no tbsCertList');
    crls.push(raw(el));
  }
  return { certificates, crls };
}
