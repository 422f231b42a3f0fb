import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from '../bytes.js';
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
  let req: pkijs.CertificationRequest;
  try {
    req = pkijs.CertificationRequest.fromBER(toArrayBuffer(der));
  } catch (err) {
    throw new PolicyError('badRequest', 'the CSR is not a valid PKCS#10 request', err);
  }
  const spki = new Uint8Array(req.subjectPublicKeyInfo.toSchema().toBER());
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (err) {
    throw new PolicyError('badAlg', 'the CSR public key is not supported', err);
  }
  verifySignature(req, key);
  const attributes = req.attributes ?? [];
  const subject = new Uint8Array(req.subject.toSchema().toBER());
  return {
    der,
    subject,
    subjectText: nameToString(subject),
    spki,
    publicKey: describeKey(key),
    challengePassword: readChallenge(attributes),
    extensions: readExtensions(attributes),
  };
}

function verifySignature(req: pkijs.CertificationRequest, key: KeyObject): void {
  const algOid = req.signatureAlgorithm.algorithmId;
  const hash = SIG_HASH[algOid];
  const keyType = key.asymmetricKeyType;
  const isEcdsaAlg = algOid.startsWith('1.2.840.10045.4.');
  if (!hash || (keyType === 'ec') !== isEcdsaAlg || (keyType !== 'ec' && keyType !== 'rsa')) {
    throw new PolicyError('badAlg', `unsupported CSR signature algorithm ${algOid}`);
  }
  let ok = false;
  try {
    ok = cryptoVerify(hash, req.tbsView, key, req.signatureValue.valueBlock.valueHexView);
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

function readChallenge(attributes: pkijs.Attribute[]): string | null {
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

function readExtensions(attributes: pkijs.Attribute[]): ExtensionSpec[] {
  const out: ExtensionSpec[] = [];
  for (const attr of attributes) {
    if (attr.type !== OID.extensionRequest && attr.type !== OID.msExtensionRequest) continue;
    for (const value of attr.values) {
      let exts: pkijs.Extensions;
      try {
        exts = new pkijs.Extensions({ schema: value });
      } catch (err) {
        throw new PolicyError('badRequest', 'malformed extensionRequest attribute', err);
      }
      for (const e of exts.extensions) {
        out.push({
          oid: e.extnID,
          critical: e.critical,
          value: new Uint8Array(e.extnValue.valueBlock.valueHexView),
        });
      }
    }
  }
  return out;
}
