import 'reflect-metadata';
import { createHash, verify as verifySignature, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { publicKeyFromSpki } from '@scepkit/scep';
import { ChallengeValidationError } from './errors.js';
import type { Device, ExpectedCsr, SanTemplate, SanType, ScepProfile, User } from './model.js';
import { expectedCsrFor } from './template.js';

const crypto = webcrypto;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const CHALLENGE_PASSWORD_OID = '1.2.840.113549.1.9.7';
const SAN_TO_X509: Record<SanType, 'email' | 'upn' | 'dns' | 'url'> = {
  email: 'email',
  upn: 'upn',
  dns: 'dns',
  uri: 'url',
};

/** Generates an RSA key pair as a device would (extractable, SHA-256). */
export function generateDeviceKeys(modulusLength = 2048): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { ...RSA, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  );
}

export interface BuildCsrOptions {
  /** The challengePassword (a PrintableString); omitted when undefined. */
  challenge?: string;
  /** Reuse a key pair; otherwise one of `expected.keySize` bits is generated. */
  keys?: CryptoKeyPair;
  /** Leave out the EKU extension (Apple clients have no EKU setting, docs/intune-api.md §5). */
  omitExtendedKeyUsages?: boolean;
}

export interface BuiltCsr {
  der: Buffer;
  /** Standard base64 of the DER, as `validateRequest` takes it. */
  base64: string;
  pem: string;
  keys: CryptoKeyPair;
}

/**
 * Builds a PKCS#10 request with `expected`'s subject, and SAN/KU/EKU in an extensionRequest, plus the
 * challengePassword attribute. Tests tamper with `expected` to provoke each validation error.
 */
export async function buildCsr(expected: ExpectedCsr, options: BuildCsrOptions = {}): Promise<BuiltCsr> {
  const keys = options.keys ?? (await generateDeviceKeys(expected.keySize));
  const extensions: x509.Extension[] = [];
  if (expected.subjectAlternativeNames.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        expected.subjectAlternativeNames.map((san) => ({ type: SAN_TO_X509[san.type], value: san.value })),
      ),
    );
  }
  if (expected.keyUsage !== 0) extensions.push(new x509.KeyUsagesExtension(expected.keyUsage, true));
  if (expected.extendedKeyUsages.length > 0 && !options.omitExtendedKeyUsages) {
    extensions.push(new x509.ExtendedKeyUsageExtension(expected.extendedKeyUsages));
  }
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: expected.subject,
      keys,
      signingAlgorithm: RSA,
      extensions,
      attributes:
        options.challenge === undefined ? [] : [new x509.ChallengePasswordAttribute(options.challenge)],
    },
    crypto,
  );
  const der = Buffer.from(csr.rawData);
  return { der, base64: der.toString('base64'), pem: csr.toString('pem'), keys };
}

/** What a device sends for `profile` with `challenge`: the CSR built from the rendered profile. */
export function buildDeviceCsr(input: {
  profile: ScepProfile;
  device: Device;
  user?: User;
  challenge: string;
  keys?: CryptoKeyPair;
}): Promise<BuiltCsr> {
  const expected = expectedCsrFor(input.profile, input.device, input.user);
  const apple = input.device.platform === 'ios' || input.device.platform === 'macos';
  return buildCsr(expected, {
    challenge: input.challenge,
    omitExtendedKeyUsages: apple,
    ...(input.keys ? { keys: input.keys } : {}),
  });
}

/** A CSR as `validateRequest` reads it. */
export interface ParsedCsr {
  challengePassword?: string;
  subject: string;
  subjectAlternativeNames: SanTemplate[];
  keyUsage?: number;
  extendedKeyUsages?: string[];
  keySize: number;
  /** Hex SHA-256 of the SubjectPublicKeyInfo. */
  spkiSha256: string;
}

const RSA_SIG_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const ECDSA_SIG_HASH: Record<string, string> = {
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const EXTENSION_REQUEST_OID = '1.2.840.113549.1.9.14';
const SAN_OID = '2.5.29.17';
const KEY_USAGE_OID = '2.5.29.15';
const EKU_OID = '2.5.29.37';
const UPN_OID = '1.3.6.1.4.1.311.20.2.3';

interface RawExtension {
  /** The Extension's DER, for `@peculiar/x509`. */
  der: Uint8Array;
  /** extnValue's content as asn1js parsed it (undefined when it is not one whole BER element). */
  value: asn1js.AsnType | undefined;
}

/** The parts of a CertificationRequest that `parseCsr` reads, located in one asn1js parse. */
interface RawCsr {
  der: Uint8Array;
  /** CertificationRequestInfo as received: what the signature covers. */
  info: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  spkiTree: asn1js.Sequence;
  attributes: { type: string; values: asn1js.AsnType[] }[];
  signatureAlgorithm: string;
  signature: Uint8Array;
}

const isSeq = (el: asn1js.AsnType | undefined): el is asn1js.Sequence =>
  el instanceof asn1js.Sequence && el.idBlock.isConstructed;
const children = (el: asn1js.AsnType | undefined): asn1js.AsnType[] => (isSeq(el) ? el.valueBlock.value : []);

/**
 * Reads `SEQUENCE { SEQUENCE { version, subject, SubjectPublicKeyInfo, [0] attributes OPTIONAL },
 * AlgorithmIdentifier, BIT STRING }` by position from one asn1js parse (RFC 2986 §4). Throws on any other shape.
 */
function readCsr(der: Uint8Array): RawCsr {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || parsed.result.error) throw new Error(`bad DER: ${parsed.result.error}`);
  const [info, alg, sig] = children(parsed.result);
  if (!isSeq(info) || !isSeq(alg) || !(sig instanceof asn1js.BitString)) {
    throw new Error('not a CertificationRequest');
  }
  const [version, subject, spki, attrs] = info.valueBlock.value;
  const attrsOk =
    attrs === undefined ||
    (attrs.idBlock.tagClass === 3 && attrs.idBlock.tagNumber === 0 && attrs.idBlock.isConstructed);
  if (!(version instanceof asn1js.Integer) || !isSeq(subject) || !isSeq(spki) || !attrsOk) {
    throw new Error('bad CertificationRequestInfo');
  }
  const attributes = ((attrs as asn1js.Constructed | undefined)?.valueBlock.value ?? []).map((a) => {
    const [type, values] = children(a);
    if (!(type instanceof asn1js.ObjectIdentifier) || !(values instanceof asn1js.Set)) {
      throw new Error('bad attribute');
    }
    return { type: type.valueBlock.toString(), values: values.valueBlock.value };
  });
  const algOid = alg.valueBlock.value[0];
  if (!(algOid instanceof asn1js.ObjectIdentifier)) throw new Error('bad signature algorithm');
  return {
    der,
    info: info.valueBeforeDecodeView,
    subject: subject.valueBeforeDecodeView,
    spki: spki.valueBeforeDecodeView,
    spkiTree: spki,
    attributes,
    signatureAlgorithm: algOid.valueBlock.toString(),
    signature: sig.valueBlock.valueHexView,
  };
}

/**
 * Checks the self-signature with node:crypto for RSA PKCS#1 v1.5 and ECDSA; other algorithms (RSA-PSS, EdDSA…)
 * go through `@peculiar/x509`'s WebCrypto verification as before.
 */
async function verifyCsr(csr: RawCsr, key: KeyObject): Promise<boolean> {
  const alg = csr.signatureAlgorithm;
  const keyType = key.asymmetricKeyType;
  const hash = keyType === 'rsa' ? RSA_SIG_HASH[alg] : keyType === 'ec' ? ECDSA_SIG_HASH[alg] : undefined;
  if (hash) return verifySignature(hash, csr.info, key, csr.signature);
  return new x509.Pkcs10CertificateRequest(csr.der).verify(crypto);
}

/**
 * A DirectoryString, read as `@peculiar/asn1-x509` does (teletex/printable/universal/UTF-8/BMP); undefined for
 * anything else.
 */
function directoryString(value: asn1js.AsnType | undefined): string | undefined {
  if (
    value instanceof asn1js.PrintableString ||
    value instanceof asn1js.Utf8String ||
    value instanceof asn1js.TeletexString ||
    value instanceof asn1js.UniversalString ||
    value instanceof asn1js.BmpString
  ) {
    return value.valueBlock.value;
  }
  return undefined;
}

/**
 * Each extension of the first extensionRequest attribute, by OID (the first of each OID wins).
 * Extensions ::= SEQUENCE OF SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
 */
function readExtensions(csr: RawCsr): Map<string, RawExtension> {
  const out = new Map<string, RawExtension>();
  const value = csr.attributes.find((a) => a.type === EXTENSION_REQUEST_OID)?.values[0];
  if (value === undefined) return out;
  if (!isSeq(value)) throw new Error('bad extensionRequest');
  for (const e of value.valueBlock.value) {
    const parts = children(e);
    const [id, second, third] = parts;
    const critical = parts.length === 3 ? second : undefined;
    const extnValue = parts.length === 3 ? third : second;
    if (
      !(id instanceof asn1js.ObjectIdentifier) ||
      (critical !== undefined && !(critical instanceof asn1js.Boolean)) ||
      !(extnValue instanceof asn1js.OctetString) ||
      parts.length > 3
    ) {
      throw new Error('bad extension');
    }
    const oid = id.valueBlock.toString();
    const inner = extnValue.idBlock.isConstructed ? [] : extnValue.valueBlock.value;
    if (!out.has(oid))
      out.set(oid, { der: e.valueBeforeDecodeView, value: inner.length === 1 ? inner[0] : undefined });
  }
  return out;
}

/**
 * The SAN list from the asn1js tree for rfc822Name, dNSName, URI and the UPN otherName (strings decoded as
 * `@peculiar/x509` does: IA5 byte by byte, the UPN as a DirectoryString); `@peculiar/x509` reads any other list.
 */
function readSubjectAltNames(ext: RawExtension): SanTemplate[] {
  const names = isSeq(ext.value) ? ext.value.valueBlock.value : undefined;
  const out: SanTemplate[] = [];
  for (const n of names ?? []) {
    const { tagClass, tagNumber, isConstructed } = n.idBlock;
    if (tagClass === 3 && !isConstructed && (tagNumber === 1 || tagNumber === 2 || tagNumber === 6)) {
      const value = Buffer.from((n as asn1js.Primitive).valueBlock.valueHexView).toString('latin1');
      out.push({ type: tagNumber === 1 ? 'email' : tagNumber === 2 ? 'dns' : 'uri', value });
      continue;
    }
    const [typeId, wrapped, extra] =
      tagClass === 3 && tagNumber === 0 && isConstructed ? (n as asn1js.Constructed).valueBlock.value : [];
    const inner = wrapped instanceof asn1js.Constructed ? wrapped.valueBlock.value : [];
    const upn = inner.length === 1 ? directoryString(inner[0]) : undefined;
    if (
      typeId instanceof asn1js.ObjectIdentifier &&
      typeId.valueBlock.toString() === UPN_OID &&
      wrapped?.idBlock.tagClass === 3 &&
      wrapped.idBlock.tagNumber === 0 &&
      extra === undefined &&
      upn !== undefined
    ) {
      out.push({ type: 'upn', value: upn });
      continue;
    }
    return libraryAltNames(ext);
  }
  return names ? out : libraryAltNames(ext);
}

function libraryAltNames(ext: RawExtension): SanTemplate[] {
  return new x509.SubjectAlternativeNameExtension(ext.der).names.items.map((n) => ({
    type: (n.type === 'url' ? 'uri' : n.type) as SanType,
    value: n.value,
  }));
}

/**
 * KeyUsage flags as `@peculiar/x509` gives them (asn1-schema's `BitString.toNumber`: named bit i is 2^i; no
 * bits gives NaN); the library reads anything but a primitive BIT STRING.
 */
function readKeyUsage(ext: RawExtension): number {
  const bits = ext.value;
  if (!(bits instanceof asn1js.BitString) || bits.idBlock.isConstructed) {
    return new x509.KeyUsagesExtension(ext.der).usages;
  }
  let binary = '';
  for (const octet of bits.valueBlock.valueHexView) binary += octet.toString(2).padStart(8, '0');
  binary = binary.split('').reverse().join('');
  const unused = bits.valueBlock.unusedBits;
  if (unused) binary = binary.slice(unused).padStart(unused, '0');
  return parseInt(binary, 2);
}

/** The EKU OIDs; the library reads anything but a SEQUENCE of OIDs. */
function readExtendedKeyUsages(ext: RawExtension): string[] {
  const oids = isSeq(ext.value) ? ext.value.valueBlock.value : undefined;
  if (oids?.every((o) => o instanceof asn1js.ObjectIdentifier)) {
    return oids.map((o) => (o as asn1js.ObjectIdentifier).valueBlock.toString());
  }
  return new x509.ExtendedKeyUsageExtension(ext.der).usages.map(String);
}

/** The last parses, by base64: a CA sends the same CSR to validateRequest and then to a notification. */
const recentlyParsed = new Map<string, ParsedCsr>();
const RECENTLY_PARSED_MAX = 256;

const copyParsed = (p: ParsedCsr): ParsedCsr => ({
  ...p,
  subjectAlternativeNames: p.subjectAlternativeNames.map((s) => ({ ...s })),
  ...(p.extendedKeyUsages ? { extendedKeyUsages: [...p.extendedKeyUsages] } : {}),
});

/**
 * Decodes and verifies a base64 DER CSR; throws `CertificateRequestDecodingFailed` otherwise. The DER is parsed
 * once with asn1js and read by position, the signature checked with node:crypto; `@peculiar/x509` formats the
 * subject (and reads unusual SAN/KU/EKU encodings). A CSR that parsed is remembered (the last 256), so the
 * notification for a validated CSR does not decode it again.
 */
export async function parseCsr(base64: string): Promise<ParsedCsr> {
  const fail = (cause?: unknown): never => {
    throw new ChallengeValidationError(
      'CertificateRequestDecodingFailed',
      'Failed to decode the certificate request.',
      {
        cause,
      },
    );
  };
  const known = recentlyParsed.get(base64);
  if (known) return copyParsed(known);
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(base64) || base64.trim() === '') return fail();
  let parsed: ParsedCsr;
  try {
    const bytes = Buffer.from(base64, 'base64');
    // Not a DER SEQUENCE: @peculiar/x509 reads the bytes as PEM, hex or base64 text, as before.
    const der = bytes[0] === 0x30 ? bytes : new Uint8Array(x509.PemData.toArrayBuffer(bytes));
    const csr = readCsr(der);
    // RSA keys imported from their modulus and exponent (a JWK), ~20x faster than OpenSSL's SPKI decoder.
    const key = publicKeyFromSpki(csr.spki, csr.spkiTree);
    if (!(await verifyCsr(csr, key))) return fail(new Error('CSR signature is invalid'));
    parsed = {
      subject: new x509.Name(csr.subject).toString(),
      subjectAlternativeNames: [],
      keySize: key.asymmetricKeyDetails?.modulusLength ?? 0,
      spkiSha256: createHash('sha256').update(csr.spki).digest('hex'),
    };
    const challenge = csr.attributes.find((a) => a.type === CHALLENGE_PASSWORD_OID);
    if (challenge) {
      // An attribute without a value reads as '' (@peculiar/x509's default).
      const password = challenge.values.length ? directoryString(challenge.values[0]) : '';
      if (password === undefined) throw new Error('the challengePassword is not a DirectoryString');
      parsed.challengePassword = password;
    }
    const extensions = readExtensions(csr);
    const san = extensions.get(SAN_OID);
    if (san) parsed.subjectAlternativeNames = readSubjectAltNames(san);
    const ku = extensions.get(KEY_USAGE_OID);
    if (ku) parsed.keyUsage = readKeyUsage(ku);
    const eku = extensions.get(EKU_OID);
    if (eku) parsed.extendedKeyUsages = readExtendedKeyUsages(eku);
  } catch (err) {
    if (err instanceof ChallengeValidationError) throw err;
    return fail(err);
  }
  if (recentlyParsed.size >= RECENTLY_PARSED_MAX) {
    recentlyParsed.delete(recentlyParsed.keys().next().value as string);
  }
  recentlyParsed.set(base64, copyParsed(parsed));
  return parsed;
}

/** Normalises a subject string through the X.500 name parser, for string comparison as Intune does. */
export function normaliseSubject(subject: string): string {
  try {
    return new x509.Name(subject).toString();
  } catch {
    return subject;
  }
}
