import 'reflect-metadata';
import { createHash, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
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

/** Decodes and verifies a base64 DER CSR; throws `CertificateRequestDecodingFailed` otherwise. */
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
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(base64) || base64.trim() === '') return fail();
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(Buffer.from(base64, 'base64'));
    if (!(await csr.verify(crypto))) fail(new Error('CSR signature is invalid'));
  } catch (err) {
    if (err instanceof ChallengeValidationError) throw err;
    return fail(err);
  }
  const spki = Buffer.from(csr.publicKey.rawData);
  const details = createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyDetails;
  const parsed: ParsedCsr = {
    subject: csr.subject,
    subjectAlternativeNames: [],
    keySize: details?.modulusLength ?? 0,
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
  };
  const attr = csr.attributes.find((a) => a.type === CHALLENGE_PASSWORD_OID);
  if (attr) {
    try {
      parsed.challengePassword = new x509.ChallengePasswordAttribute(attr.rawData).password;
    } catch (err) {
      return fail(err);
    }
  }
  const ext = (oid: string): ArrayBuffer | undefined => csr.extensions.find((e) => e.type === oid)?.rawData;
  const sanRaw = ext('2.5.29.17');
  if (sanRaw) {
    const san = new x509.SubjectAlternativeNameExtension(sanRaw);
    parsed.subjectAlternativeNames = san.names.items.map((n) => ({
      type: (n.type === 'url' ? 'uri' : n.type) as SanType,
      value: n.value,
    }));
  }
  const kuRaw = ext('2.5.29.15');
  if (kuRaw) parsed.keyUsage = new x509.KeyUsagesExtension(kuRaw).usages;
  const ekuRaw = ext('2.5.29.37');
  if (ekuRaw) parsed.extendedKeyUsages = new x509.ExtendedKeyUsageExtension(ekuRaw).usages.map(String);
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
