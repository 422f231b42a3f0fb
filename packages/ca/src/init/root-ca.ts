import { createPublicKey, KeyObject } from 'node:crypto';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
  ocspNoCheckExtension,
  subjectKeyIdentifierExtension,
  type ExtensionSpec,
  type KeyUsageName,
} from '../certs/extensions.js';
import { signWithCa } from '../certs/issue.js';
import { buildCertificate } from '../certs/certificate-builder.js';
import {
  generatePrivateKey,
  DEFAULT_CA_KEY_SPEC,
  DEFAULT_RA_KEY_SPEC,
  type KeySpec,
} from '../keys/key-pair.js';
import { KeyError } from '../errors.js';
import { OID } from '../oids.js';
import { generateSerial, type RandomBytes } from '../serial.js';
import { KeyObjectSigner } from '../signer/key-object-signer.js';
import type { HashName, Signer } from '../signer/signer.js';
import { CaIdentity } from './ca-identity.js';
import { nameFromString } from './names.js';

const DAY_MS = 86_400_000;

export interface RootCaOptions {
  /** e.g. `CN=scepkit Root CA, O=Example`. */
  subject: string;
  /** Default `DEFAULT_CA_KEY_SPEC` (RSA 3072). */
  key?: KeySpec;
  /** Default 3650. */
  validityDays?: number;
  /** Default SHA-256 (SHA-384 for P-384). */
  hash?: HashName;
  /**
   * Single-CA mode (no RA): also set digitalSignature + keyEncipherment on the CA certificate, which Apple
   * devices and jscep need to use the CA for SCEP message signing/encryption. Default false.
   */
  singleCaMode?: boolean;
  clock?: () => Date;
  randomBytes?: RandomBytes;
}

export const DEFAULT_CA_VALIDITY_DAYS = 3650;
export const DEFAULT_RA_VALIDITY_DAYS = 730;

/** A generated CA: its identity (ready to sign) and the private key to store (see `writePrivateKeyFile`). */
export interface GeneratedCa {
  identity: CaIdentity;
  privateKey: KeyObject;
  certificateDer: Uint8Array;
}

/**
 * `scepkit init`: generate a root CA key and self-signed certificate.
 *
 * @example
 * const { identity, privateKey } = await createRootCa({ subject: 'CN=Example SCEP CA', key: { type: 'ec', curve: 'P-384' } });
 * await writePrivateKeyFile('ca.key.pem', privateKey, { passphrase });
 */
export async function createRootCa(options: RootCaOptions): Promise<GeneratedCa> {
  const privateKey = await generatePrivateKey(options.key ?? DEFAULT_CA_KEY_SPEC);
  const signer = new KeyObjectSigner(privateKey, options.hash ? { hash: options.hash } : {});
  const identity = await selfSignCa(signer, options);
  return { identity, privateKey, certificateDer: identity.certificateDer };
}

/**
 * Self-sign a root CA certificate for a key held by any `Signer` (e.g. a `Pkcs11Signer`: the key never leaves
 * the token). `options.key` and `options.hash` are ignored (the signer decides).
 */
export async function selfSignCa(
  signer: Signer,
  options: Omit<RootCaOptions, 'key' | 'hash'>,
): Promise<CaIdentity> {
  const now = (options.clock ?? (() => new Date()))();
  const subject = nameFromString(options.subject);
  const usages: KeyUsageName[] = ['keyCertSign', 'cRLSign'];
  if (options.singleCaMode) usages.unshift('digitalSignature', 'keyEncipherment');
  const keyId = keyIdentifier(signer.publicKeySpki);
  const certificateDer = await buildCertificate(
    {
      serial: generateSerial(options.randomBytes).bytes,
      issuer: subject,
      subject,
      spki: signer.publicKeySpki,
      notBefore: now,
      notAfter: new Date(now.getTime() + (options.validityDays ?? DEFAULT_CA_VALIDITY_DAYS) * DAY_MS),
      extensions: [
        basicConstraintsExtension(true),
        keyUsageExtension(usages),
        subjectKeyIdentifierExtension(keyId),
        authorityKeyIdentifierExtension(keyId),
      ],
    },
    signer,
  );
  return CaIdentity.create(signer, certificateDer);
}

export interface IssuedKeyPair {
  certificateDer: Uint8Array;
  privateKey: KeyObject;
}

export interface DelegateOptions {
  subject: string;
  /** A key to certify, or a spec to generate one. RA keys must be RSA (SCEP key transport). */
  key?: KeySpec | KeyObject;
  validityDays?: number;
  clock?: () => Date;
  randomBytes?: RandomBytes;
}

async function delegateKey(key: KeySpec | KeyObject | undefined, fallback: KeySpec): Promise<KeyObject> {
  if (key === undefined) return generatePrivateKey(fallback);
  return key instanceof KeyObject ? key : generatePrivateKey(key);
}

async function issueDelegate(
  ca: CaIdentity,
  options: DelegateOptions,
  fallback: KeySpec,
  extensions: (key: KeyObject) => ExtensionSpec[],
): Promise<IssuedKeyPair> {
  const privateKey = await delegateKey(options.key, fallback);
  const now = (options.clock ?? (() => new Date()))();
  const notAfter = new Date(
    Math.min(
      now.getTime() + (options.validityDays ?? DEFAULT_RA_VALIDITY_DAYS) * DAY_MS,
      ca.notAfter.getTime(),
    ),
  );
  const certificateDer = await signWithCa(ca, {
    serial: generateSerial(options.randomBytes).bytes,
    subject: nameFromString(options.subject),
    spki: new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })),
    notBefore: now,
    notAfter,
    extensions: extensions(privateKey),
  });
  return { certificateDer, privateKey };
}

/**
 * NDES-style RA certificate for SCEP message signing and decryption: KeyUsage digitalSignature + keyEncipherment,
 * EKU Certificate Request Agent (1.3.6.1.4.1.311.20.2.1) + clientAuth (Windows stalls without them).
 * The key must be RSA. Persist the returned certificate and key (`writePrivateKeyFile`) yourself.
 */
export function issueRaCertificate(ca: CaIdentity, options: DelegateOptions): Promise<IssuedKeyPair> {
  return issueDelegate(ca, options, DEFAULT_RA_KEY_SPEC, (key) => {
    if (key.asymmetricKeyType !== 'rsa') throw new KeyError('unsupported-key', 'the RA key must be RSA');
    return [
      basicConstraintsExtension(false),
      keyUsageExtension(['digitalSignature', 'keyEncipherment']),
      extKeyUsageExtension([OID.certificateRequestAgent, OID.clientAuth]),
    ];
  });
}

/** A delegated OCSP responder certificate (RFC 6960 §4.2.2.2): EKU id-kp-OCSPSigning and id-pkix-ocsp-nocheck. */
export function issueOcspSignerCertificate(ca: CaIdentity, options: DelegateOptions): Promise<IssuedKeyPair> {
  return issueDelegate(ca, { validityDays: 90, ...options }, { type: 'ec', curve: 'P-256' }, () => [
    basicConstraintsExtension(false),
    keyUsageExtension(['digitalSignature']),
    extKeyUsageExtension([OID.ocspSigning]),
    ocspNoCheckExtension(),
  ]);
}
