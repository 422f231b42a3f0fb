/*
 * A throw-away PKI for tests: CA, RA, RSA and ECDSA clients, made once per test file with @peculiar/x509.
 * Every key is also exposed as a Node.js KeyObject (for the codec) and as PEM files in a temp dir (for openssl).
 */
// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { parseCertificate } from '../certificate.js';
import { keyObjectDecrypter, keyObjectSigner } from '../keys.js';
import type { ScepDecrypter, ScepSigner } from '../keys.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const RSA_ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]) };

/** A certificate with its key, in every form a test needs. */
export interface TestIdentity {
  /** DER of the certificate. */
  cert: Uint8Array;
  key: KeyObject;
  signer: ScepSigner;
  /** Only for RSA identities. */
  decrypter: ScepDecrypter | undefined;
  /** Paths of the certificate and PKCS#8 key as PEM (in the PKI's temp dir). */
  certPem: string;
  keyPem: string;
  /** DER of the subject and issuer Names. */
  subject: Uint8Array;
  issuer: Uint8Array;
  /** Serial number content octets. */
  serial: Uint8Array;
}

export interface TestPki {
  dir: string;
  ca: TestIdentity;
  /** An RA certificate issued by the CA (signs and decrypts SCEP for it). */
  ra: TestIdentity;
  /** An unrelated CA, to prove trust is enforced. */
  otherCa: TestIdentity;
  /** A client with a self-signed RSA certificate (what a PKCSReq is signed with). */
  client: TestIdentity;
  /** A client certificate issued by the CA (what a RenewalReq is signed with). */
  issuedClient: TestIdentity;
  /** A client with a self-signed ECDSA P-256 certificate. */
  ecClient: TestIdentity;
  /** A CRL signed by the CA, revoking serial 0x1234. */
  crl: Uint8Array;
  /** A PKCS#10 request for `client`'s key with challengePassword "secret123". */
  csr: Uint8Array;
  /** Writes bytes to a file in the temp dir and returns its path. */
  file(name: string, data: Uint8Array | string): string;
  cleanup(): void;
}

type Keys = webcrypto.CryptoKeyPair;
type SigAlg = webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;

async function rsaKeys(): Promise<Keys> {
  return (await webcrypto.subtle.generateKey({ ...RSA_ALG, modulusLength: 2048 }, true, [
    'sign',
    'verify',
  ])) as Keys;
}

async function ecKeys(): Promise<Keys> {
  return (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as Keys;
}

const pem = (label: string, der: Uint8Array | ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der as ArrayBuffer)
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;

function identity(dir: string, name: string, cert: x509.X509Certificate, keys: Keys): TestIdentity {
  const key = KeyObject.from(keys.privateKey);
  const der = new Uint8Array(cert.rawData);
  const certPem = join(dir, `${name}.pem`);
  const keyPem = join(dir, `${name}.key.pem`);
  writeFileSync(certPem, pem('CERTIFICATE', der));
  writeFileSync(keyPem, key.export({ format: 'pem', type: 'pkcs8' }));
  const rsa = key.asymmetricKeyType === 'rsa';
  const parsed = parseCertificate(der);
  return {
    cert: der,
    key,
    signer: keyObjectSigner(der, key),
    decrypter: rsa ? keyObjectDecrypter(der, key) : undefined,
    certPem,
    keyPem,
    subject: parsed.subject,
    issuer: parsed.issuer,
    serial: parsed.serial,
  };
}

const notBefore = new Date(Date.now() - 3600_000);
const notAfter = new Date(Date.now() + 86400_000);

/** Makes the whole PKI (five RSA-2048 keys and one P-256 key: about half a second). */
export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'scep-test-'));
  const [caKeys, raKeys, otherKeys, clientKeys, issuedKeys, ecK] = await Promise.all([
    rsaKeys(),
    rsaKeys(),
    rsaKeys(),
    rsaKeys(),
    rsaKeys(),
    ecKeys(),
  ]);
  const caName = 'CN=scepkit test CA,O=scepkit';
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: caName,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: RSA_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const issue = (serialNumber: string, subject: string, keys: Keys) =>
    x509.X509CertificateGenerator.create({
      serialNumber,
      subject,
      issuer: caName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: RSA_ALG,
      extensions: [
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
      ],
    });
  const raCert = await issue('02', 'CN=scepkit test RA,O=scepkit', raKeys);
  const issuedCert = await issue('0a', 'CN=device-1,O=scepkit', issuedKeys);
  const selfSigned = (name: string, keys: Keys, alg: SigAlg) =>
    x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '7f01',
      name,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: alg,
    });
  const otherCert = await selfSigned('CN=some other CA', otherKeys, RSA_ALG);
  const clientCert = await selfSigned('CN=device-1,O=scepkit', clientKeys, RSA_ALG);
  const ecCert = await selfSigned('CN=device-ec', ecK, { name: 'ECDSA', hash: 'SHA-256' });
  const crl = await x509.X509CrlGenerator.create({
    issuer: caName,
    thisUpdate: notBefore,
    nextUpdate: notAfter,
    entries: [{ serialNumber: '1234', revocationDate: notBefore }],
    signingKey: caKeys.privateKey,
    signingAlgorithm: RSA_ALG,
  });
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=device-1,O=scepkit',
    keys: clientKeys,
    signingAlgorithm: RSA_ALG,
    attributes: [new x509.ChallengePasswordAttribute('secret123')],
  });
  return {
    dir,
    ca: identity(dir, 'ca', caCert, caKeys),
    ra: identity(dir, 'ra', raCert, raKeys),
    otherCa: identity(dir, 'other-ca', otherCert, otherKeys),
    client: identity(dir, 'client', clientCert, clientKeys),
    issuedClient: identity(dir, 'issued-client', issuedCert, issuedKeys),
    ecClient: identity(dir, 'ec-client', ecCert, ecK),
    crl: new Uint8Array(crl.rawData),
    csr: new Uint8Array(csr.rawData),
    file(name, data) {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
