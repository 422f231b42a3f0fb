import { createHash, verify as cryptoVerify } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseCertificate, issuerAndSerial, matchesIdentifier } from './certificate.js';
import type { ParsedCertificate } from './certificate.js';
import { digestByOid, digestOid, parseSignatureOid, signatureOid } from './digests.js';
import { asBuffer, fromSchema, octetStringBytes, parseDer } from './der.js';
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

/** Builds and signs a CMS SignedData ContentInfo (RFC 5652 §5) with authenticated attributes. */
export async function buildSignedData(opts: SignOptions): Promise<Uint8Array> {
  const { signer, digest } = opts;
  const signerCert = parseCertificate(signer.certificate);
  const messageDigest = createHash(digest).update(opts.content).digest();
  const unsorted = [
    new pkijs.Attribute({
      type: OID.contentType,
      values: [new asn1js.ObjectIdentifier({ value: OID.data })],
    }),
    ...(opts.signingTime
      ? [
          new pkijs.Attribute({
            type: OID.signingTime,
            values: [new asn1js.UTCTime({ valueDate: opts.signingTime })],
          }),
        ]
      : []),
    ...opts.attributes,
    new pkijs.Attribute({
      type: OID.messageDigest,
      values: [new asn1js.OctetString({ valueHex: messageDigest })],
    }),
  ];
  // DER sorts a SET OF by the encodings of its elements (X.690 §11.6); verifiers that re-encode the attributes
  // (Go's pkcs7, used by micromdm) check the signature over the sorted form, so we sign exactly that.
  const attrs = unsorted
    .map((a) => ({ a, der: Buffer.from(a.toSchema().toBER()) }))
    .sort((x, y) => Buffer.compare(x.der, y.der))
    .map((x) => x.a);
  // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4).
  const toSign = new asn1js.Set({ value: attrs.map((a) => a.toSchema()) }).toBER();
  const signature = await signer.sign(new Uint8Array(toSign), digest);
  const digestAlg = new pkijs.AlgorithmIdentifier({ algorithmId: digestOid(digest) });
  const plainRsa = opts.rsaStyle === 'rsaEncryption';
  const sigAlg = new pkijs.AlgorithmIdentifier({
    algorithmId: signatureOid(signer.keyType, digest, plainRsa),
    ...(signer.keyType === 'rsa' ? { algorithmParams: new asn1js.Null() } : {}),
  });
  const certs = [
    signer.certificate,
    ...(opts.certificates ?? []).filter((c) => !sameBytes(c, signer.certificate)),
  ];
  const sd = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [digestAlg],
    encapContentInfo: primitiveContent(opts.content),
    certificates: certs.map((c) => (c === signer.certificate ? signerCert.cert : parseCertificate(c).cert)),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: issuerAndSerial(signerCert),
        digestAlgorithm: digestAlg,
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: attrs }),
        signatureAlgorithm: sigAlg,
        signature: new asn1js.OctetString({ valueHex: signature }),
      }),
    ],
  });
  const ci = new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema(true) });
  return new Uint8Array(ci.toSchema().toBER());
}

/**
 * id-data content as one primitive OCTET STRING (DER), always present. pkijs would split it into a constructed
 * (BER) string, which Go's pkcs7 (micromdm's scepclient) cannot read when it is empty, and would omit an empty one,
 * which OpenSSL then treats as detached ("no content"). A FAILURE or PENDING CertRep carries exactly that: an empty
 * eContent, as micromdm's server sends it.
 */
function primitiveContent(content: Uint8Array): pkijs.EncapsulatedContentInfo {
  const eci = new pkijs.EncapsulatedContentInfo({ eContentType: OID.data });
  eci.toSchema = () =>
    new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: OID.data }),
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: 0 },
          value: [new asn1js.OctetString({ valueHex: content })],
        }),
      ],
    });
  return eci;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(asBuffer(a), asBuffer(b)) === 0;
}

export interface ParsedSignedData {
  signedData: pkijs.SignedData;
  /** The encapsulated content, chunks joined; undefined when absent. */
  content: Uint8Array | undefined;
  /** DER of every certificate carried. */
  certificates: Uint8Array[];
}

/** Parses a SignedData ContentInfo without verifying it. */
export function parseSignedData(der: Uint8Array, limits?: DerLimits): ParsedSignedData {
  const asn = parseDer(der, 'SignedData', limits);
  const ci = fromSchema('ContentInfo', () => new pkijs.ContentInfo({ schema: asn }));
  if (ci.contentType !== OID.signedData) {
    throw new ScepError('wrongContentType', `expected SignedData, got ${ci.contentType}`);
  }
  // Count the certificates before pkijs models each of them: 17+ are refused cheaply.
  const certSet = certificateSet(ci.content);
  const count = certSet?.valueBlock.value.length ?? 0;
  if (count > MAX_CERTIFICATES) {
    throw new ScepError(
      'limitExceeded',
      `SignedData carries ${count} certificates (max ${MAX_CERTIFICATES})`,
    );
  }
  const sd = fromSchema('SignedData', () => new pkijs.SignedData({ schema: ci.content }));
  // The certificates as received (not re-encoded by pkijs): plain X.509 ones, skipping other CertificateChoices.
  const certificates: Uint8Array[] = [];
  for (const el of certSet?.valueBlock.value ?? []) {
    if (el instanceof asn1js.Sequence) certificates.push(new Uint8Array(el.valueBeforeDecodeView));
  }
  const e = sd.encapContentInfo.eContent;
  let content: Uint8Array | undefined;
  if (e !== undefined) {
    if (!(e instanceof asn1js.OctetString))
      throw new ScepError('malformed', 'eContent is not an OCTET STRING');
    content = octetStringBytes(e);
  }
  return { signedData: sd, content, certificates };
}

/** The `certificates [0] IMPLICIT` element of a SignedData (asn1js), if any. */
function certificateSet(signedData: unknown): asn1js.Constructed | undefined {
  if (!(signedData instanceof asn1js.Sequence)) return undefined;
  return signedData.valueBlock.value
    .slice(3)
    .find(
      (el): el is asn1js.Constructed =>
        el instanceof asn1js.Constructed && el.idBlock.tagClass === 3 && el.idBlock.tagNumber === 0,
    );
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
  const { signedData } = parsed;
  if (signedData.signerInfos.length !== 1) {
    throw new ScepError('malformed', `expected one SignerInfo, found ${signedData.signerInfos.length}`);
  }
  const si = signedData.signerInfos[0]!;
  // Parse candidates only until the signer is found (each parse costs milliseconds).
  let signer: ParsedCertificate | undefined;
  for (const c of candidates) {
    const pc = parseCertificate(c);
    if (matchesIdentifier(pc, si.sid)) {
      signer = pc;
      break;
    }
  }
  if (!signer) throw new ScepError('noSignerCertificate', 'the signer certificate is not in the message');
  if (!si.signedAttrs) throw new ScepError('missingAttribute', 'SignerInfo has no authenticated attributes');
  const digest = digestByOid(si.digestAlgorithm.algorithmId);
  const sig = parseSignatureOid(si.signatureAlgorithm.algorithmId, digest);
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
  const received = new Uint8Array(si.signedAttrs.encodedValue);
  const toVerify = Buffer.from(received);
  toVerify[0] = 0x31;
  const signature = new Uint8Array(si.signature.valueBlock.valueHexView);
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
    plainRsa: si.signatureAlgorithm.algorithmId === OID.rsaEncryption,
    attributes,
  };
}
