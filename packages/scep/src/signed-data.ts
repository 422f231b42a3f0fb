import { createHash, verify as cryptoVerify } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { issuerAndSerialSchema, matchesIdentifier, parseCertificate } from './certificate.js';
import type { ParsedCertificate } from './certificate.js';
import { digestByOid, digestOid, parseSignatureOid, signatureOid } from './digests.js';
import {
  algorithmId,
  children,
  cmsIdentifier,
  contentInfo,
  isContext,
  octets,
  oidOf,
  rawBytes,
} from './asn-read.js';
import type { CmsIdentifier } from './asn-read.js';
import { asBuffer, encodedElement, fromSchema, octetStringBytes, oidElement, parseDer } from './der.js';
import type { DerLimits } from './der.js';
import { ScepError } from './errors.js';
import type { ScepSigner } from './keys.js';
import { OID } from './oids.js';
import type { DigestName, RsaSignatureStyle } from './types.js';

/** Most certificates a SignedData may carry before it is refused. */
export const MAX_CERTIFICATES = 16;

export interface SignOptions {
  signer: ScepSigner;
  digest: DigestName;
  /** How RSA signatures are named (default `shaWithRsa`). */
  rsaStyle?: RsaSignatureStyle;
  /** Authenticated attributes besides contentType and messageDigest. */
  attributes: pkijs.Attribute[];
  /** Encapsulated content (id-data). An empty array is encoded as an empty OCTET STRING. */
  content: Uint8Array;
  /** Certificates to include (DER); the signer's certificate is always included first. */
  certificates?: readonly Uint8Array[];
  signingTime?: Date;
}

/**
 * Builds and signs a CMS SignedData ContentInfo (RFC 5652 §5) with authenticated attributes. Composed with asn1js
 * directly: pkijs's SignedData model would re-parse every certificate it carries on each encoding.
 */
export async function buildSignedData(opts: SignOptions): Promise<Uint8Array> {
  const { signer, digest } = opts;
  const signerCert = parseCertificate(signer.certificate);
  const messageDigest = createHash(digest).update(opts.content).digest();
  const unsorted = [
    attribute(OID.contentType, oidElement(OID.data)),
    ...(opts.signingTime
      ? [attribute(OID.signingTime, new asn1js.UTCTime({ valueDate: opts.signingTime }))]
      : []),
    // Each attribute's type as a cached OID element: pkijs's `toSchema` would rebuild the OID from its dotted form
    // and encode it arc by arc (SCEP's are ten arcs long) on every reply.
    ...opts.attributes.map((a) => attribute(a.type, ...(a.values as asn1js.AsnType[]))),
    attribute(OID.messageDigest, new asn1js.OctetString({ valueHex: messageDigest })),
  ];
  // DER sorts a SET OF by the encodings of its elements (X.690 §11.6); verifiers that re-encode the attributes
  // (Go's pkcs7, used by micromdm) check the signature over the sorted form, so we sign exactly that.
  // Each attribute is encoded once, here: the SET OF and the SignerInfo then carry these bytes as they are.
  const attrs = unsorted
    .map((a) => Buffer.from(a.toBER()))
    .sort(Buffer.compare)
    .map((der) => encodedElement(der));
  // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4); the SignerInfo carries the same
  // bytes tagged [0] IMPLICIT.
  const toSign = new Uint8Array(new asn1js.Set({ value: attrs }).toBER());
  const tagged = toSign.slice();
  tagged[0] = 0xa0;
  const signedAttrs = encodedElement(tagged);
  const signature = await signer.sign(toSign, digest);
  const digestAlg = () => new asn1js.Sequence({ value: [oidElement(digestOid(digest))] });
  const plainRsa = opts.rsaStyle === 'rsaEncryption';
  const sigAlg = new asn1js.Sequence({
    value: [
      oidElement(signatureOid(signer.keyType, digest, plainRsa)),
      ...(signer.keyType === 'rsa' ? [new asn1js.Null()] : []),
    ],
  });
  const certs = [
    signerCert,
    ...(opts.certificates ?? [])
      .filter((c) => !sameBytes(c, signer.certificate))
      .map((c) => parseCertificate(c)),
  ];
  const signerInfo = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      issuerAndSerialSchema(signerCert),
      digestAlg(),
      signedAttrs,
      sigAlg,
      new asn1js.OctetString({ valueHex: signature }),
    ],
  });
  const signedData = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Set({ value: [digestAlg()] }),
      primitiveContent(opts.content),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: certs.map((c) => encodedElement(c.der)),
      }),
      new asn1js.Set({ value: [signerInfo] }),
    ],
  });
  const ci = new asn1js.Sequence({
    value: [
      oidElement(OID.signedData),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [signedData] }),
    ],
  });
  return new Uint8Array(ci.toBER());
}

function attribute(type: string, ...values: asn1js.AsnType[]): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [oidElement(type), new asn1js.Set({ value: values })],
  });
}

/**
 * id-data content as one primitive OCTET STRING (DER), always present. pkijs would split it into a constructed
 * (BER) string, which Go's pkcs7 (micromdm's scepclient) cannot read when it is empty, and would omit an empty one,
 * which OpenSSL then treats as detached ("no content"). A FAILURE or PENDING CertRep carries exactly that: an empty
 * eContent, as micromdm's server sends it.
 */
function primitiveContent(content: Uint8Array): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      oidElement(OID.data),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [new asn1js.OctetString({ valueHex: content })],
      }),
    ],
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(asBuffer(a), asBuffer(b)) === 0;
}

/** One SignerInfo (RFC 5652 §5.3), read by position. */
export interface ParsedSignerInfo {
  sid: CmsIdentifier;
  digestAlgorithm: string;
  /** The `[0] IMPLICIT` signed attributes exactly as received (tag included), and each attribute read. */
  signedAttrs: { der: Uint8Array; attributes: { type: string; values: asn1js.AsnType[] }[] } | undefined;
  signatureAlgorithm: string;
  signature: Uint8Array;
}

export interface ParsedSignedData {
  eContentType: string;
  /** The encapsulated content, chunks joined; undefined when absent. */
  content: Uint8Array | undefined;
  /** DER of every certificate carried. */
  certificates: Uint8Array[];
  /** Each of `certificates` as asn1js parsed it within the message. */
  certificateTrees: ReadonlyMap<Uint8Array, asn1js.AsnType>;
  signerInfos: ParsedSignerInfo[];
  /** The same message as a pkijs SignedData, modelled on first use only (a schema match costs milliseconds). */
  readonly signedData: pkijs.SignedData;
}

/** Parses a SignedData ContentInfo without verifying it. */
export function parseSignedData(der: Uint8Array, limits?: DerLimits): ParsedSignedData {
  const root = parseDer(der, 'SignedData', limits);
  const ci = contentInfo(root, 'SignedData');
  if (ci.contentType !== OID.signedData) {
    throw new ScepError('wrongContentType', `expected SignedData, got ${ci.contentType}`);
  }
  // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, [0] certificates OPTIONAL,
  //   [1] crls OPTIONAL, signerInfos SET }
  const parts = children(ci.content, 'SignedData');
  const [version, digestAlgorithms, encap] = parts;
  const signerInfoSet = parts[parts.length - 1];
  if (parts.length < 4 || parts.length > 6 || !(version instanceof asn1js.Integer)) {
    throw new ScepError('malformed', 'SignedData: not a SignedData structure');
  }
  children(digestAlgorithms, 'SignedData digestAlgorithms', true);
  const optional = parts.slice(3, -1);
  const certSet = optional.find((el) => isContext(el, 0, true)) as asn1js.Constructed | undefined;
  if (optional.some((el) => el !== certSet && !isContext(el, 1, true))) {
    throw new ScepError('malformed', 'SignedData: unexpected element');
  }
  // Count the certificates before anything looks at them: 17+ are refused cheaply.
  const certEls = certSet?.valueBlock.value ?? [];
  if (certEls.length > MAX_CERTIFICATES) {
    throw new ScepError(
      'limitExceeded',
      `SignedData carries ${certEls.length} certificates (max ${MAX_CERTIFICATES})`,
    );
  }
  // The certificates as received: plain X.509 ones, skipping other CertificateChoices.
  const certificates: Uint8Array[] = [];
  const certificateTrees = new Map<Uint8Array, asn1js.AsnType>();
  for (const el of certEls) {
    if (el instanceof asn1js.Sequence && el.idBlock.isConstructed) {
      const der = rawBytes(el);
      certificates.push(der);
      certificateTrees.set(der, el);
    }
  }

  // EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
  const encapParts = children(encap, 'SignedData encapContentInfo');
  const eContentType = oidOf(encapParts[0], 'SignedData eContentType');
  let content: Uint8Array | undefined;
  if (encapParts.length > 2) throw new ScepError('malformed', 'SignedData encapContentInfo: extra elements');
  if (encapParts.length === 2) {
    const wrapped = encapParts[1]!;
    const inner = isContext(wrapped, 0, true) ? (wrapped as asn1js.Constructed).valueBlock.value : [];
    if (inner.length !== 1) throw new ScepError('malformed', 'SignedData: bad eContent');
    if (!(inner[0] instanceof asn1js.OctetString)) {
      throw new ScepError('malformed', 'eContent is not an OCTET STRING');
    }
    content = octetStringBytes(inner[0]);
  }
  const signerInfos = children(signerInfoSet, 'SignedData signerInfos', true).map(readSignerInfo);
  return new LazySignedData(eContentType, content, certificates, certificateTrees, signerInfos, ci.content);
}

/** A class with the getter on its prototype, not an object literal with one (see `LazyCertificate`). */
class LazySignedData implements ParsedSignedData {
  #modelled: pkijs.SignedData | undefined;
  readonly #tree: asn1js.AsnType;

  constructor(
    readonly eContentType: string,
    readonly content: Uint8Array | undefined,
    readonly certificates: Uint8Array[],
    readonly certificateTrees: ReadonlyMap<Uint8Array, asn1js.AsnType>,
    readonly signerInfos: ParsedSignerInfo[],
    tree: asn1js.AsnType,
  ) {
    this.#tree = tree;
  }

  get signedData(): pkijs.SignedData {
    this.#modelled ??= fromSchema('SignedData', () => new pkijs.SignedData({ schema: this.#tree }));
    return this.#modelled;
  }
}

/**
 * SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL, signatureAlgorithm,
 *   signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
 */
function readSignerInfo(el: asn1js.AsnType): ParsedSignerInfo {
  const what = 'SignerInfo';
  const parts = children(el, what);
  if (!(parts[0] instanceof asn1js.Integer)) throw new ScepError('malformed', `${what}: version missing`);
  const sid = cmsIdentifier(parts[1], `${what} sid`);
  const digestAlgorithm = algorithmId(parts[2], `${what} digestAlgorithm`).oid;
  let i = 3;
  let signedAttrs: ParsedSignerInfo['signedAttrs'];
  const maybeAttrs = parts[i];
  if (maybeAttrs !== undefined && isContext(maybeAttrs, 0, true)) {
    const attributes = (maybeAttrs as asn1js.Constructed).valueBlock.value.map((a) => {
      const [type, values, extra] = children(a, `${what} attribute`);
      if (extra !== undefined) throw new ScepError('malformed', `${what} attribute: extra elements`);
      return {
        type: oidOf(type, `${what} attribute type`),
        values: children(values, `${what} attribute values`, true),
      };
    });
    signedAttrs = { der: rawBytes(maybeAttrs), attributes };
    i++;
  }
  const signatureAlgorithm = algorithmId(parts[i], `${what} signatureAlgorithm`).oid;
  const signature = octets(parts[i + 1], `${what} signature`);
  const rest = parts.slice(i + 2);
  if (rest.length > 1 || (rest.length === 1 && !isContext(rest[0], 1, true))) {
    throw new ScepError('malformed', `${what}: unexpected element`);
  }
  return { sid, digestAlgorithm, signedAttrs, signatureAlgorithm, signature };
}

export interface VerifiedSigner {
  signerCertificate: ParsedCertificate;
  digest: DigestName;
  /** Whether the signature algorithm was the plain rsaEncryption OID. */
  plainRsa: boolean;
  /** Authenticated attributes by OID (first value of each). */
  attributes: Map<string, asn1js.AsnType>;
}

/**
 * Verifies the single SignerInfo over the exact bytes of its authenticated attributes as received, checks the
 * messageDigest against the content, and returns the signer certificate (found among `candidates`).
 */
export function verifySignedData(
  parsed: ParsedSignedData,
  candidates: readonly Uint8Array[] = parsed.certificates,
): VerifiedSigner {
  if (parsed.signerInfos.length !== 1) {
    throw new ScepError('malformed', `expected one SignerInfo, found ${parsed.signerInfos.length}`);
  }
  const si = parsed.signerInfos[0]!;
  // Parse candidates only until the signer is found (each parse costs milliseconds).
  let signer: ParsedCertificate | undefined;
  for (const c of candidates) {
    const pc = parseCertificate(c, parsed.certificateTrees.get(c));
    if (matchesIdentifier(pc, si.sid)) {
      signer = pc;
      break;
    }
  }
  if (!signer) throw new ScepError('noSignerCertificate', 'the signer certificate is not in the message');
  if (!si.signedAttrs) throw new ScepError('missingAttribute', 'SignerInfo has no authenticated attributes');
  const digest = digestByOid(si.digestAlgorithm);
  const sig = parseSignatureOid(si.signatureAlgorithm, digest);
  if (sig.keyType !== signer.publicKey.asymmetricKeyType) {
    throw new ScepError('badSignature', 'signature algorithm does not match the signer key');
  }

  const attributes = new Map<string, asn1js.AsnType>();
  for (const a of si.signedAttrs.attributes) {
    if (attributes.has(a.type)) throw new ScepError('badAttribute', `duplicate attribute ${a.type}`);
    if (a.values.length !== 1) throw new ScepError('badAttribute', `attribute ${a.type} must have one value`);
    attributes.set(a.type, a.values[0]!);
  }
  const md = attributes.get(OID.messageDigest);
  if (!(md instanceof asn1js.OctetString)) throw new ScepError('missingAttribute', 'messageDigest missing');
  const expected = createHash(digest)
    .update(parsed.content ?? new Uint8Array(0))
    .digest();
  if (!sameBytes(octetStringBytes(md), expected)) {
    throw new ScepError('badSignature', 'messageDigest does not match the content');
  }

  // Signature over the attributes exactly as received, with the [0] IMPLICIT tag replaced by SET (RFC 5652 §5.4).
  const toVerify = Buffer.from(si.signedAttrs.der);
  toVerify[0] = 0x31;
  const signature = si.signature;
  let ok = false;
  try {
    ok = cryptoVerify(sig.hash, toVerify, signer.publicKey, signature);
  } catch (e) {
    throw new ScepError('badSignature', 'signature could not be verified', { cause: e });
  }
  if (!ok) throw new ScepError('badSignature', 'signature does not verify');
  return {
    signerCertificate: signer,
    digest,
    plainRsa: si.signatureAlgorithm === OID.rsaEncryption,
    attributes,
  };
}
