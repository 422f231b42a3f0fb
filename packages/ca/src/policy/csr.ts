import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { parsedCsrTree, publicKeyFromSpki } from '@scepkit/scep';
import * as asn1js from 'asn1js';
import { PolicyError } from '../errors.js';
import { OID } from '../oids.js';
import type { ExtensionSpec } from '../certs/certificate-builder.js';
import { nameToString } from '../init/names.js';

/** The public key of a CSR, as policy sees it. */
export type CsrPublicKey =
  { type: 'rsa'; bits: number } | { type: 'ec'; curve: string } | { type: 'other'; name: string };

/** A PKCS#10 request whose self-signature has been verified. */
export interface ParsedCsr {
  der: Uint8Array;
  /** Subject Name DER as requested (RDN order and string types untouched). */
  subject: Uint8Array;
  /** The subject in RFC 4514 form (empty string for an empty subject). */
  subjectText: string;
  /** SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
  publicKey: CsrPublicKey;
  /** PKCS#9 challengePassword (any length), or null. Secret: never log it. */
  challengePassword: string | null;
  /** Extensions from the PKCS#9 extensionRequest attribute (and Microsoft's legacy one), in order. */
  extensions: ExtensionSpec[];
}

// CSR signature algorithms accepted for proof of possession (RFC 2986 §4.2). SHA-1 is still sent by some
// clients (Intune's test matrix lists SHA-1 CSRs); it only proves possession of the key here.
const SIG_HASH: Record<string, string> = {
  [OID.sha1WithRSAEncryption]: 'sha1',
  [OID.sha256WithRSAEncryption]: 'sha256',
  [OID.sha384WithRSAEncryption]: 'sha384',
  [OID.sha512WithRSAEncryption]: 'sha512',
  [OID.ecdsaWithSHA1]: 'sha1',
  [OID.ecdsaWithSHA256]: 'sha256',
  [OID.ecdsaWithSHA384]: 'sha384',
  [OID.ecdsaWithSHA512]: 'sha512',
};

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/**
 * Parse a PKCS#10 CSR and verify its self-signature.
 * @throws PolicyError badRequest (not a CSR), badAlg (unsupported signature algorithm), badMessageCheck (bad signature)
 */
export function parseCsr(der: Uint8Array): ParsedCsr {
  const req = readRequest(der);
  let key: KeyObject;
  try {
    key = publicKeyFromSpki(req.spki, req.spkiTree);
  } catch (err) {
    throw new PolicyError('badAlg', 'the CSR public key is not supported', err);
  }
  verifySignature(req, key);
  return {
    der,
    subject: req.subject,
    subjectText: nameToString(req.subject, req.subjectTree),
    spki: req.spki,
    publicKey: describeKey(key),
    challengePassword: readChallenge(req.attributes),
    extensions: readExtensions(req.attributes),
  };
}

interface CsrAttribute {
  type: string;
  values: asn1js.AsnType[];
}

interface RawRequest {
  /** CertificationRequestInfo as received: what the signature covers. */
  info: Uint8Array;
  subject: Uint8Array;
  /** The subject Name as asn1js parsed it. */
  subjectTree: asn1js.AsnType;
  spki: Uint8Array;
  /** The SubjectPublicKeyInfo as asn1js parsed it. */
  spkiTree: asn1js.AsnType;
  attributes: CsrAttribute[];
  signatureAlgorithm: string;
  signature: Uint8Array;
}

const notCsr = (detail: string, cause?: unknown) =>
  new PolicyError('badRequest', `the CSR is not a valid PKCS#10 request (${detail})`, cause);

const isSeq = (el: asn1js.AsnType | undefined): el is asn1js.Sequence =>
  el instanceof asn1js.Sequence && el.idBlock.isConstructed;

/**
 * Reads a CertificationRequest (RFC 2986 §4) by position from asn1js's tree (a pkijs schema match costs
 * milliseconds per request):
 * `SEQUENCE { SEQUENCE { version, subject Name, SubjectPublicKeyInfo, [0] IMPLICIT attributes }, AlgorithmIdentifier,
 * BIT STRING }`.
 */
function readRequest(der: Uint8Array): RawRequest {
  // A CSR from `openScepRequest` was parsed there already.
  let root = parsedCsrTree(der);
  if (root === undefined) {
    let parsed: ReturnType<typeof asn1js.fromBER>;
    try {
      // Not the contents of BIT and OCTET STRINGs (key, signature, extension values): read where needed.
      parsed = asn1js.fromBER(der, { parseEmbedded: false });
    } catch (err) {
      throw notCsr('bad DER', err);
    }
    if (parsed.offset !== der.byteLength) throw notCsr('bad DER');
    root = parsed.result;
  }
  const [info, alg, sig, extra] = isSeq(root) ? root.valueBlock.value : [];
  if (!isSeq(info) || !isSeq(alg) || !(sig instanceof asn1js.BitString) || extra !== undefined) {
    throw notCsr('not a CertificationRequest');
  }
  const [version, subject, spki, attrs, more] = info.valueBlock.value;
  const attrsOk =
    attrs === undefined ||
    (attrs.idBlock.tagClass === 3 && attrs.idBlock.tagNumber === 0 && attrs.idBlock.isConstructed);
  if (!(version instanceof asn1js.Integer) || !isSeq(subject) || !isSeq(spki) || !attrsOk || more) {
    throw notCsr('bad CertificationRequestInfo');
  }
  const attributes = ((attrs as asn1js.Constructed | undefined)?.valueBlock.value ?? []).map((a) => {
    const [type, values, rest] = isSeq(a) ? a.valueBlock.value : [];
    if (!(type instanceof asn1js.ObjectIdentifier) || !(values instanceof asn1js.Set) || rest) {
      throw notCsr('bad attribute');
    }
    return { type: type.valueBlock.toString(), values: values.valueBlock.value };
  });
  const algOid = alg.valueBlock.value[0];
  if (!(algOid instanceof asn1js.ObjectIdentifier)) throw notCsr('bad signature algorithm');
  return {
    info: info.valueBeforeDecodeView,
    subject: new Uint8Array(subject.valueBeforeDecodeView),
    subjectTree: subject,
    spki: new Uint8Array(spki.valueBeforeDecodeView),
    spkiTree: spki,
    attributes,
    signatureAlgorithm: algOid.valueBlock.toString(),
    signature: sig.valueBlock.valueHexView,
  };
}

function verifySignature(req: RawRequest, key: KeyObject): void {
  const algOid = req.signatureAlgorithm;
  const hash = SIG_HASH[algOid];
  const keyType = key.asymmetricKeyType;
  const isEcdsaAlg = algOid.startsWith('1.2.840.10045.4.');
  if (!hash || (keyType === 'ec') !== isEcdsaAlg || (keyType !== 'ec' && keyType !== 'rsa')) {
    throw new PolicyError('badAlg', `unsupported CSR signature algorithm ${algOid}`);
  }
  let ok = false;
  try {
    ok = cryptoVerify(hash, req.info, key, req.signature);
  } catch (err) {
    throw new PolicyError('badMessageCheck', 'the CSR signature could not be verified', err);
  }
  if (!ok) throw new PolicyError('badMessageCheck', 'the CSR signature is invalid');
}

function describeKey(key: KeyObject): CsrPublicKey {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return { type: 'rsa', bits: details.modulusLength ?? 0 };
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    return { type: 'ec', curve: CURVES[curve] ?? curve };
  }
  return { type: 'other', name: String(key.asymmetricKeyType) };
}

function readChallenge(attributes: CsrAttribute[]): string | null {
  const attr = attributes.find((a) => a.type === OID.challengePassword);
  const value = attr?.values[0];
  if (value === undefined) return null;
  // DirectoryString: PrintableString or UTF8String in practice (also BMP/Teletex/Universal). No length cap:
  // Intune's challenge is several kB.
  if (value instanceof asn1js.BmpString || value instanceof asn1js.UniversalString)
    return value.valueBlock.value;
  if (value instanceof asn1js.Utf8String || value instanceof asn1js.PrintableString)
    return value.valueBlock.value;
  if (value instanceof asn1js.TeletexString || value instanceof asn1js.IA5String) {
    return Buffer.from(value.valueBlock.valueHexView).toString('latin1');
  }
  throw new PolicyError('badRequest', 'challengePassword has an unsupported string type');
}

/** Extensions ::= SEQUENCE OF SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function readExtensions(attributes: CsrAttribute[]): ExtensionSpec[] {
  const out: ExtensionSpec[] = [];
  const bad = () => new PolicyError('badRequest', 'malformed extensionRequest attribute');
  for (const attr of attributes) {
    if (attr.type !== OID.extensionRequest && attr.type !== OID.msExtensionRequest) continue;
    for (const value of attr.values) {
      if (!isSeq(value)) throw bad();
      for (const e of value.valueBlock.value) {
        const parts = isSeq(e) ? e.valueBlock.value : [];
        const [id, second, third] = parts;
        const critical = parts.length === 3 ? second : undefined;
        const extnValue = parts.length === 3 ? third : second;
        if (
          !(id instanceof asn1js.ObjectIdentifier) ||
          (critical !== undefined && !(critical instanceof asn1js.Boolean)) ||
          !(extnValue instanceof asn1js.OctetString) ||
          extnValue.idBlock.isConstructed ||
          parts.length > 3
        ) {
          throw bad();
        }
        out.push({
          oid: id.valueBlock.toString(),
          critical: critical?.valueBlock.value ?? false,
          value: new Uint8Array(extnValue.valueBlock.valueHexView),
        });
      }
    }
  }
  return out;
}
